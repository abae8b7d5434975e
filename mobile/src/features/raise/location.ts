// Where the caller stands, from the browser (with the person's permission).

export interface Position {
  latitude: string; // decimal degrees, 6 places: what the case's DecimalField keeps
  longitude: string;
  accuracy: number; // metres
}

/** Degrees as the server stores them (max 6 decimals, within range). */
export function toDecimal(value: number, limit: number): string {
  if (!Number.isFinite(value) || Math.abs(value) > limit) throw new RangeError(`out of range: ${value}`);
  return value.toFixed(6);
}

/** The current position, or a rejection with the browser's reason (denied, unavailable, timeout). */
export function currentPosition(timeoutMs = 10000): Promise<Position> {
  return new Promise((resolve, reject) => {
    if (!("geolocation" in navigator)) {
      reject(new Error("unsupported"));
      return;
    }
    navigator.geolocation.getCurrentPosition(
      (position) =>
        resolve({
          latitude: toDecimal(position.coords.latitude, 90),
          longitude: toDecimal(position.coords.longitude, 180),
          accuracy: position.coords.accuracy,
        }),
      (error) => reject(new Error(error.code === error.PERMISSION_DENIED ? "denied" : "unavailable")),
      { enableHighAccuracy: true, timeout: timeoutMs, maximumAge: 60000 },
    );
  });
}
