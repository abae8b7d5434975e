// Photos are made smaller on the phone before they travel: a 12-megapixel
// camera shot of 4–6 MB becomes a JPEG of a few hundred KB whose long edge is
// at most 2048 px (the server stores at most JINSHAO_IMAGE_MAX_SIDE anyway),
// which matters on a village's slow mobile connection.

export const LONG_EDGE = 2048;
export const JPEG_QUALITY = 0.85;

export interface Size {
  width: number;
  height: number;
}

/**
 * The size a `width`×`height` picture is drawn at so its long edge is at most
 * `longEdge`, keeping its aspect ratio; never enlarged; whole pixels, at least 1.
 */
export function fitWithin(width: number, height: number, longEdge = LONG_EDGE): Size {
  if (!(width > 0 && height > 0)) throw new RangeError(`not a picture size: ${width}×${height}`);
  const scale = Math.min(1, longEdge / Math.max(width, height));
  return {
    width: Math.max(1, Math.round(width * scale)),
    height: Math.max(1, Math.round(height * scale)),
  };
}

/**
 * A JPEG of `file` no larger than `longEdge` on its long side. The browser
 * applies the photo's EXIF orientation when decoding (`imageOrientation:
 * "from-image"`), so the copy is upright. A file the browser cannot decode
 * (HEIC on some phones) is sent as it is and the server judges it; so is one
 * already small enough and already a JPEG.
 */
export async function downscalePhoto(file: File, longEdge = LONG_EDGE, quality = JPEG_QUALITY): Promise<File> {
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(file, { imageOrientation: "from-image" });
  } catch {
    return file;
  }
  try {
    const size = fitWithin(bitmap.width, bitmap.height, longEdge);
    if (file.type === "image/jpeg" && size.width === bitmap.width && size.height === bitmap.height) return file;
    const canvas = document.createElement("canvas");
    canvas.width = size.width;
    canvas.height = size.height;
    const context = canvas.getContext("2d");
    if (!context) return file;
    context.fillStyle = "#fff"; // transparency onto white, as the server does
    context.fillRect(0, 0, size.width, size.height);
    context.drawImage(bitmap, 0, 0, size.width, size.height);
    const blob = await new Promise<Blob | null>((resolve) => canvas.toBlob(resolve, "image/jpeg", quality));
    if (!blob) return file;
    const name = file.name.replace(/\.[^.]*$/, "") || "photo";
    return new File([blob], `${name}.jpg`, { type: "image/jpeg", lastModified: file.lastModified });
  } finally {
    bitmap.close();
  }
}
