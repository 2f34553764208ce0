// The runners a spectator follows: in the URL (?follow=12,345, shareable) and in local storage
// (kept across visits). The URL wins when it names any.
const STORAGE_KEY = "splitstream.follow";
export const MAX_FOLLOWED = 20;

export function parseBibs(text: string | null | undefined): string[] {
  if (!text) return [];
  const bibs = text
    .split(/[,\s]+/)
    .map((b) => b.trim())
    .filter((b) => b.length > 0 && b.length <= 32);
  return [...new Set(bibs)].slice(0, MAX_FOLLOWED);
}

export function loadFollowed(url: URL, storage: Pick<Storage, "getItem"> | undefined): string[] {
  const fromUrl = parseBibs(url.searchParams.get("follow"));
  if (fromUrl.length > 0) return fromUrl;
  try {
    return parseBibs(storage?.getItem(STORAGE_KEY));
  } catch {
    return [];  // storage disabled
  }
}

export function saveFollowed(bibs: string[], storage: Pick<Storage, "setItem"> | undefined): void {
  try {
    storage?.setItem(STORAGE_KEY, bibs.join(","));
  } catch {
    // storage disabled or full: the URL still has them
  }
}

// The page URL with `follow` and `race` set (empty values removed).
export function withParams(url: URL, params: Record<string, string>): URL {
  const next = new URL(url.href);
  for (const [key, value] of Object.entries(params)) {
    if (value) next.searchParams.set(key, value);
    else next.searchParams.delete(key);
  }
  return next;
}
