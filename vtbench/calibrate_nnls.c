/* calibrate_nnls.c - non-negative least squares (C. L. Lawson and R. J.
 * Hanson, "Solving Least Squares Problems", 1974, chapter 23): the active-
 * set method, with the unconstrained subproblems solved on the normal
 * equations (the systems here have a few columns, scaled rows). */
#include <math.h>
#include <string.h>

#include "calibrate.h"

/* Least squares over the columns in `set` (the others 0): z. 0, or -1 when
 * the columns are dependent. */
static int lsq(int m, int n, const double *A, const double *b, const bool *set, double *z) {
  int idx[CALIB_FIT_MAX], k = 0;
  for (int j = 0; j < n; j++)
    if (set[j]) idx[k++] = j;
  double M[CALIB_FIT_MAX][CALIB_FIT_MAX + 1];
  for (int r = 0; r < k; r++) {
    for (int c = 0; c < k; c++) {
      double s = 0;
      for (int i = 0; i < m; i++)
        s += A[i * n + idx[r]] * A[i * n + idx[c]];
      M[r][c] = s;
    }
    double s = 0;
    for (int i = 0; i < m; i++)
      s += A[i * n + idx[r]] * b[i];
    M[r][k] = s;
  }
  for (int c = 0; c < k; c++) { /* Gaussian elimination, partial pivoting */
    int p = c;
    for (int r = c + 1; r < k; r++)
      if (fabs(M[r][c]) > fabs(M[p][c])) p = r;
    if (fabs(M[p][c]) < 1e-12) return -1;
    if (p != c)
      for (int j = 0; j <= k; j++) {
        double t = M[c][j];
        M[c][j] = M[p][j];
        M[p][j] = t;
      }
    for (int r = c + 1; r < k; r++) {
      double f = M[r][c] / M[c][c];
      for (int j = c; j <= k; j++)
        M[r][j] -= f * M[c][j];
    }
  }
  for (int j = 0; j < n; j++)
    z[j] = 0;
  for (int r = k - 1; r >= 0; r--) {
    double s = M[r][k];
    for (int j = r + 1; j < k; j++)
      s -= M[r][j] * z[idx[j]];
    z[idx[r]] = s / M[r][r];
  }
  return 0;
}

int calibrate__nnls(int m, int n, const double *A, const double *b, double *x) {
  if (n < 1 || n > CALIB_FIT_MAX || m < 1) return -1;
  bool passive[CALIB_FIT_MAX] = {false};
  double w[CALIB_FIT_MAX], z[CALIB_FIT_MAX];
  double scale = 0;
  for (int i = 0; i < m * n; i++)
    scale = fmax(scale, fabs(A[i]));
  for (int i = 0; i < m; i++)
    scale = fmax(scale, fabs(b[i]));
  const double tol = 1e-12 * (scale > 0 ? scale * scale : 1);
  for (int j = 0; j < n; j++)
    x[j] = 0;
  for (int outer = 0; outer < 3 * n + 10; outer++) {
    /* w = A^T (b - A x): the descent direction of the columns held at 0 */
    int t = -1;
    for (int j = 0; j < n; j++) {
      double s = 0;
      for (int i = 0; i < m; i++) {
        double r = b[i];
        for (int c = 0; c < n; c++)
          r -= A[i * n + c] * x[c];
        s += A[i * n + j] * r;
      }
      w[j] = s;
      if (!passive[j] && s > tol && (t < 0 || s > w[t])) t = j;
    }
    if (t < 0) return 0; /* optimal: no column would lower the residual */
    passive[t] = true;
    for (int inner = 0; inner < 3 * n + 10; inner++) {
      if (lsq(m, n, A, b, passive, z)) { /* dependent: give the column up */
        passive[t] = false;
        return 0;
      }
      bool feasible = true;
      for (int j = 0; j < n; j++)
        if (passive[j] && z[j] <= 0) feasible = false;
      if (feasible) {
        memcpy(x, z, sizeof(double) * (size_t)n);
        break;
      }
      double alpha = 1;
      for (int j = 0; j < n; j++)
        if (passive[j] && z[j] <= 0 && x[j] - z[j] > 0) alpha = fmin(alpha, x[j] / (x[j] - z[j]));
      for (int j = 0; j < n; j++) {
        x[j] += alpha * (z[j] - x[j]);
        if (passive[j] && x[j] <= 1e-15) {
          passive[j] = false;
          x[j] = 0;
        }
      }
    }
  }
  return -1;
}
