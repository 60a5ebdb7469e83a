interface ImportMetaEnv {
  /** Collector URL the SDK sends to and the live list reads from. */
  readonly VITE_SIGHTLINE_HOST?: string;
  readonly VITE_SIGHTLINE_WRITE_KEY?: string;
  /** Read token for `GET /v1/events/recent`: fine in a local demo, never ship one in a public page. */
  readonly VITE_SIGHTLINE_READ_TOKEN?: string;
}

interface ImportMeta {
  readonly env: ImportMetaEnv;
}
