// The browser bundles and the stylesheet, built by build.mjs and compiled into the gateway so
// build/bin/intake-web is one self-contained file.
declare module "intake-web:assets" {
  export const ASSETS: Readonly<Record<string, { type: string; body: string }>>;
}
