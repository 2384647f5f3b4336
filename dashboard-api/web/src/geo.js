// Equirectangular projection of the Kazakhstan map frame, shared by the
// build (which projects the country outlines once into SVG path strings)
// and the browser (which projects markers and routes). x grows east, y
// grows south; longitudes are scaled by cos(48°N), the frame's middle
// latitude, so the country keeps its familiar shape.
export const FRAME = { lonMin: 45.5, lonMax: 88.5, latMin: 39.5, latMax: 56.5 };
export const WIDTH = 1000;
const K = Math.cos((48 * Math.PI) / 180);
const S = WIDTH / ((FRAME.lonMax - FRAME.lonMin) * K);
export const HEIGHT = Math.round((FRAME.latMax - FRAME.latMin) * S);

export function project(lon, lat) {
  return [(lon - FRAME.lonMin) * K * S, (FRAME.latMax - lat) * S];
}

export function inFrame(lon, lat, margin = 0) {
  return lon >= FRAME.lonMin - margin && lon <= FRAME.lonMax + margin &&
    lat >= FRAME.latMin - margin && lat <= FRAME.latMax + margin;
}
