declare module 'node-gyp-build' {
  interface NodeGypBuild {
    (dir: string): unknown;
    /** The path of the binary that would load for `dir`; throws when none fits. */
    resolve(dir: string): string;
  }
  const load: NodeGypBuild;
  export = load;
}
