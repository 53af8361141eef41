// jstat 1.9.6 ships no types. Only what src/stats uses is declared here.
declare module "jstat" {
  interface JStatStatic {
    /** Log-gamma (SPECFUN's algorithm: asymptotic series, about 1e-15 relative). */
    loggam(x: number): number;
    erf(x: number): number;
    erfc(x: number): number;
    normal: {
      cdf(x: number, mean: number, std: number): number;
      inv(p: number, mean: number, std: number): number;
    };
    studentt: {
      cdf(x: number, dof: number): number;
      pdf(x: number, dof: number): number;
      inv(p: number, dof: number): number;
    };
  }
  const jStat: JStatStatic;
  export default jStat;
}
