declare module 'comlink/dist/esm/node-adapter.mjs' {
  import type { Endpoint } from 'comlink';
  const nodeEndpoint: (nep: unknown) => Endpoint;
  export default nodeEndpoint;
}
