// Types of seedrandom's alea generator module (the package types only its main entry).
declare module "seedrandom/lib/alea.js" {
  interface AleaPrng {
    (): number;
    /** 53 bits of randomness in [0, 1). */
    double(): number;
    int32(): number;
    quick(): number;
  }
  const alea: (seed?: string) => AleaPrng;
  export default alea;
}
