import { describe, expect, it } from "vitest";
import { clock, fileSize, kindOf, photoBox, PHOTO_MAX } from "./media";
import { acceptedRecorderType, encodeWav, resample, VOICE_RATE, wavBytes } from "./wav";

describe("photoBox", () => {
  it("keeps a landscape photo's aspect within the box", () => {
    expect(photoBox(2048, 1536)).toEqual({ width: 220, height: 165 });
  });
  it("keeps a portrait photo's aspect within the box", () => {
    expect(photoBox(1536, 2048)).toEqual({ width: 195, height: 260 });
  });
  it("never enlarges a small one, never draws a sliver", () => {
    expect(photoBox(100, 80)).toEqual({ width: 100, height: 80 });
    expect(photoBox(4000, 100)).toEqual({ width: 220, height: 60 });
  });
  it("reserves a fixed box when the size is not known", () => {
    expect(photoBox(null, null)).toEqual({ width: 160, height: 120 });
    expect(photoBox(0, 10, PHOTO_MAX)).toEqual({ width: 160, height: 120 });
  });
});

describe("small formats", () => {
  it("writes lengths and sizes as people read them", () => {
    expect([clock(0), clock(7200), clock(90000), clock(null)]).toEqual(["0:00", "0:07", "1:30", "0:00"]);
    expect([fileSize(900), fileSize(512 * 1024), fileSize(3.4 * 1024 * 1024)]).toEqual(["900 B", "512 KB", "3.4 MB"]);
  });
  it("sends a picked file as the kind its type says", () => {
    const file = (type: string) => new File(["x"], "f", { type });
    expect(["image/jpeg", "video/mp4", "audio/ogg", "application/pdf", ""].map((t) => kindOf(file(t)))).toEqual([
      "image",
      "video",
      "voice",
      "file",
      "file",
    ]);
  });
});

describe("voice notes as the server takes them", () => {
  it("records Ogg or M4A where the browser can, else falls back (WebM → WAV)", () => {
    expect(acceptedRecorderType((t) => t === "audio/mp4")).toBe("audio/mp4");
    expect(acceptedRecorderType((t) => t.startsWith("audio/ogg"))).toBe("audio/ogg;codecs=opus");
    expect(acceptedRecorderType((t) => t === "audio/webm")).toBe("");
  });

  it("takes 48 kHz down to 16 kHz, a third of the samples, averaging", () => {
    const samples = Float32Array.from({ length: 48000 }, (_, i) => (i % 3 === 0 ? 0.3 : 0));
    const out = resample(samples, 48000, VOICE_RATE);
    expect(out.length).toBe(16000);
    expect(out[0]).toBeCloseTo(0.1, 5);
  });

  it("writes a RIFF WAVE header of 16-bit mono PCM and clips the samples", () => {
    const blob = encodeWav(Float32Array.from([0, 1, -1, 2]), 16000);
    const view = new DataView(wavBytes(Float32Array.from([0, 1, -1, 2]), 16000));
    const ascii = (at: number) => String.fromCharCode(...[0, 1, 2, 3].map((i) => view.getUint8(at + i)));
    expect([ascii(0), ascii(8), ascii(12), ascii(36)]).toEqual(["RIFF", "WAVE", "fmt ", "data"]);
    expect(view.getUint32(4, true)).toBe(36 + 8);
    expect([view.getUint16(20, true), view.getUint16(22, true), view.getUint32(24, true), view.getUint16(34, true)]).toEqual([1, 1, 16000, 16]);
    expect([1, 2, 3, 4].map((i) => view.getInt16(42 + i * 2, true))).toEqual([0, 32767, -32768, 32767]);
    expect(blob.size).toBe(52);
    expect(blob.type).toBe("audio/wav");
  });
});
