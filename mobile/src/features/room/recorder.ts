// Hold to talk: MediaRecorder records while the button is held; the note is
// sent in a format the server takes (see wav.ts).
import { acceptedRecorderType, toWav } from "./wav";

export const MIN_VOICE_MS = 800;

export class VoiceRecorder {
  private recorder: MediaRecorder | null = null;
  private stream: MediaStream | null = null;
  private chunks: Blob[] = [];
  private startedAt = 0;

  static supported(): boolean {
    return typeof MediaRecorder !== "undefined" && !!navigator.mediaDevices?.getUserMedia;
  }

  /** Start recording; rejects when the microphone is refused. */
  async start(): Promise<void> {
    this.stream = await navigator.mediaDevices.getUserMedia({ audio: true });
    const type = acceptedRecorderType((t) => MediaRecorder.isTypeSupported(t));
    this.recorder = new MediaRecorder(this.stream, type ? { mimeType: type } : undefined);
    this.chunks = [];
    this.recorder.ondataavailable = (event) => {
      if (event.data.size) this.chunks.push(event.data);
    };
    this.startedAt = Date.now();
    this.recorder.start();
  }

  get elapsedMs(): number {
    return this.recorder ? Date.now() - this.startedAt : 0;
  }

  /** Stop and give the note as a file the server takes; null if too short. */
  async stop(): Promise<{ file: File; durationMs: number } | null> {
    const recorder = this.recorder;
    if (!recorder) return null;
    const durationMs = Date.now() - this.startedAt;
    const stopped = new Promise<void>((resolve) => (recorder.onstop = () => resolve()));
    recorder.stop();
    await stopped;
    this.release();
    if (durationMs < MIN_VOICE_MS) return null;
    let blob = new Blob(this.chunks, { type: recorder.mimeType });
    if (!/^audio\/(ogg|mp4)/.test(recorder.mimeType)) blob = await toWav(blob);
    const extension = blob.type.includes("ogg") ? "ogg" : blob.type.includes("mp4") ? "m4a" : "wav";
    return { file: new File([blob], `voice.${extension}`, { type: blob.type }), durationMs };
  }

  cancel(): void {
    if (this.recorder && this.recorder.state !== "inactive") this.recorder.stop();
    this.release();
  }

  private release(): void {
    this.stream?.getTracks().forEach((track) => track.stop());
    this.stream = null;
    this.recorder = null;
  }
}
