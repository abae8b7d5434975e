// How big a picture is drawn in the room: its real aspect ratio (the message
// says width and height), fitted in a box, so the page never jumps when the
// picture arrives — every row's height is known before any image loads.

export interface Box {
  width: number;
  height: number;
}

export const PHOTO_MAX: Box = { width: 220, height: 260 };
export const PHOTO_MIN_SIDE = 60;
const UNKNOWN: Box = { width: 160, height: 120 };

/** CSS pixels for a `width`×`height` picture: within `max`, never a sliver below `PHOTO_MIN_SIDE`. */
export function photoBox(width: number | null, height: number | null, max: Box = PHOTO_MAX): Box {
  if (!width || !height || width <= 0 || height <= 0) return { ...UNKNOWN };
  const scale = Math.min(max.width / width, max.height / height, 1);
  return {
    width: Math.max(PHOTO_MIN_SIDE, Math.round(width * scale)),
    height: Math.max(PHOTO_MIN_SIDE, Math.round(height * scale)),
  };
}

/** "0:07", "1:30": a voice note's length. */
export function clock(ms: number | null): string {
  const seconds = Math.max(0, Math.round((ms ?? 0) / 1000));
  return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, "0")}`;
}

/** "512 KB", "3.4 MB": a file's size. */
export function fileSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${Math.round(bytes / 1024)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

/** The message kind an upload goes as, from the file the person picked. */
export function kindOf(file: File): "image" | "voice" | "video" | "file" {
  if (file.type.startsWith("image/")) return "image";
  if (file.type.startsWith("video/")) return "video";
  if (file.type.startsWith("audio/")) return "voice";
  return "file";
}
