// Voice notes the server accepts are AMR, M4A, MP3, OGG or WAV (chat/media.py).
// Firefox records Ogg/Opus and Safari M4A, which go as they are; Chromium's
// MediaRecorder writes only WebM, so its recording is decoded and written
// again as 16 kHz mono 16-bit WAV (32 KB a second: a minute is under 2 MB).

export const VOICE_RATE = 16000;

/** Recorder formats the server takes, best first; "" when none is supported (then WebM → WAV). */
export function acceptedRecorderType(isSupported: (type: string) => boolean): string {
  for (const type of ["audio/ogg;codecs=opus", "audio/mp4", "audio/mp4;codecs=mp4a.40.2"]) {
    if (isSupported(type)) return type;
  }
  return "";
}

/** Mono samples (-1…1) at `fromRate` taken to `toRate` by averaging (down) or linear steps (up). */
export function resample(samples: Float32Array, fromRate: number, toRate: number): Float32Array {
  if (fromRate === toRate) return samples;
  const length = Math.max(1, Math.round((samples.length * toRate) / fromRate));
  const out = new Float32Array(length);
  const ratio = fromRate / toRate;
  for (let i = 0; i < length; i++) {
    const start = i * ratio;
    if (ratio > 1) {
      const from = Math.floor(start);
      const to = Math.min(samples.length, Math.max(from + 1, Math.floor(start + ratio)));
      let sum = 0;
      for (let j = from; j < to; j++) sum += samples[j];
      out[i] = sum / (to - from);
    } else {
      const j = Math.floor(start);
      const next = Math.min(j + 1, samples.length - 1);
      out[i] = samples[j] + (samples[next] - samples[j]) * (start - j);
    }
  }
  return out;
}

/** A RIFF/WAVE file of 16-bit PCM mono samples (clipped to -1…1). */
export function encodeWav(samples: Float32Array, rate = VOICE_RATE): Blob {
  return new Blob([wavBytes(samples, rate)], { type: "audio/wav" });
}

/** The bytes of `encodeWav`. */
export function wavBytes(samples: Float32Array, rate = VOICE_RATE): ArrayBuffer {
  const buffer = new ArrayBuffer(44 + samples.length * 2);
  const view = new DataView(buffer);
  const ascii = (offset: number, text: string) => [...text].forEach((c, i) => view.setUint8(offset + i, c.charCodeAt(0)));
  ascii(0, "RIFF");
  view.setUint32(4, 36 + samples.length * 2, true);
  ascii(8, "WAVE");
  ascii(12, "fmt ");
  view.setUint32(16, 16, true); // fmt chunk size
  view.setUint16(20, 1, true); // PCM
  view.setUint16(22, 1, true); // mono
  view.setUint32(24, rate, true);
  view.setUint32(28, rate * 2, true); // bytes a second
  view.setUint16(32, 2, true); // block align
  view.setUint16(34, 16, true); // bits a sample
  ascii(36, "data");
  view.setUint32(40, samples.length * 2, true);
  for (let i = 0; i < samples.length; i++) {
    const s = Math.max(-1, Math.min(1, samples[i]));
    view.setInt16(44 + i * 2, s < 0 ? s * 0x8000 : s * 0x7fff, true);
  }
  return buffer;
}

/** Decode any recording the browser can play and write it as a WAV voice note. */
export async function toWav(recording: Blob): Promise<Blob> {
  const context = new AudioContext();
  try {
    const audio = await context.decodeAudioData(await recording.arrayBuffer());
    const mono = new Float32Array(audio.length);
    for (let c = 0; c < audio.numberOfChannels; c++) {
      const data = audio.getChannelData(c);
      for (let i = 0; i < data.length; i++) mono[i] += data[i] / audio.numberOfChannels;
    }
    return encodeWav(resample(mono, audio.sampleRate, VOICE_RATE));
  } finally {
    void context.close();
  }
}
