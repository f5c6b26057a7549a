"""Reference values of the special functions in src/distributions/special.rs.

Writes tests/data/special.txt: for each function, its arguments (`NAME.x`, and `NAME.y` for
the two-argument log B), the exact value rounded to float64 (`NAME.mpmath`, computed with
mpmath at 40 significant digits, with each formula chosen so that nothing cancels), and
SciPy's value (`NAME.scipy`) where SciPy has the function. The grids cover each function's
whole useful range: erf/erfc to |x| = 27, erfcx from -26 to 1e10, log Phi down to -1e5,
Phi^-1 from 1e-300 to 1 - 1e-16, log Gamma, psi and psi' from 1e-8 to 1e8, with the
neighbourhoods of 0, of the zeros of log Gamma (1 and 2) and of psi (1.4616...).

The script also prints how far SciPy is from mpmath on each grid, so that the book can say
which reference limits which comparison.

    python3 tools/scipy_special_fixtures.py
"""

import os
import sys

import mpmath as mp
import numpy as np
import scipy
import scipy.special as sc

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fixture import write_fixture  # noqa: E402

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "data")
mp.mp.dps = 40


def f64(value):
    return float(value)


def symmetric(values):
    values = sorted(set(values))
    return [-v for v in reversed(values)] + [0.0] + values


def logspace(lo, hi, per_decade):
    n = int(round((hi - lo) * per_decade)) + 1
    return list(np.logspace(lo, hi, n))


# --- reference formulas, each in the form that does not cancel at 40 digits -----------------


def mp_erfcx(x):
    x = mp.mpf(x)
    return mp.exp(x * x) * mp.erfc(x)


def mp_i1(x):
    # e^{x^2} i1erfc(x) = integral_x^inf erfc(t) dt scaled; 1/sqrt(pi) - x erfcx(x) cancels
    # for large x, so use the integral form e^{x^2} (2/sqrt(pi)) int_0^inf v e^{-(x+v)^2} dv.
    x = mp.mpf(x)
    f = lambda v: v * mp.exp(-2 * x * v - v * v)  # noqa: E731
    return 2 / mp.sqrt(mp.pi) * mp.quad(f, [0, 1 / (x + 1), mp.inf])


def mp_i2(x):
    x = mp.mpf(x)
    f = lambda v: v * v / 2 * mp.exp(-2 * x * v - v * v)  # noqa: E731
    return 2 / mp.sqrt(mp.pi) * mp.quad(f, [0, 1 / (x + 1), mp.inf])


def mp_ncdf(x):
    return mp.ncdf(mp.mpf(x))


def mp_log_ncdf(x):
    x = mp.mpf(x)
    if x < 0:
        return mp.log(mp.erfc(-x / mp.sqrt(2)) / 2)
    return mp.log1p(-mp.erfc(x / mp.sqrt(2)) / 2)


def mp_quantile(p):
    # Solve Phi(x) = p by Newton in log space (mpmath has no inverse of ncdf).
    p = mp.mpf(p)
    x = mp.mpf(float(sc.ndtri(float(p)))) if 1e-300 < p < 1 else mp.mpf(0)
    target = mp.log(p)
    for _ in range(200):
        logcdf = mp.log(mp.ncdf(x))
        step = (logcdf - target) * mp.ncdf(x) / mp.npdf(x)
        x -= step
        if abs(step) < mp.mpf(10) ** (-35) * (1 + abs(x)):
            break
    return x


def mp_quantile_offset(delta):
    # Phi(x) - 1/2 = delta, i.e. erf(x / sqrt 2) = 2 delta: solve with mpmath's erfinv.
    return mp.sqrt(2) * mp.erfinv(2 * mp.mpf(delta))


# --- grids ----------------------------------------------------------------------------------


def grids():
    cody = [0.46875, 0.4687500001, 0.46874999, 4.0, 3.9999999, 4.0000001]
    erf_x = symmetric(logspace(-300, -20, 0.1) + logspace(-20, 0, 2) + list(np.linspace(0.05, 6, 80)) + [8.0, 12.0, 27.0] + cody)
    erfc_x = sorted(set(list(np.linspace(-6, 27, 331)) + [-1e-10, 1e-10, 1e-300] + cody + [-c for c in cody]))
    erfcx_x = sorted(set(list(np.linspace(-26, 30, 281)) + logspace(-300, -10, 0.1) + logspace(-10, 10, 3) + cody + [-c for c in cody]))
    integral_x = sorted(set([0.0] + logspace(-10, 8, 6) + list(np.linspace(0.1, 12, 120)) + cody))
    ncdf_x = sorted(set(list(np.linspace(-38, 8.3, 463)) + [-1e-300, 1e-300, -1e-8, 1e-8]))
    log_ncdf_x = sorted(
        set(list(np.linspace(-40, 40, 401)) + [-v for v in logspace(-8, 5, 4)] + logspace(-8, 1.5, 4))
    )
    quantile_p = sorted(
        set(
            logspace(-300, -20, 0.2) + logspace(-20, -1, 3)
            + list(np.linspace(0.01, 0.99, 99))
            + [0.075, 0.07499999, 0.0750001, 0.925, 0.9250001, 1.4e-11, 1.3e-11, 1.5e-11]
            + [1 - 10.0 ** -k for k in range(2, 17)]
        )
    )
    offset_delta = symmetric(logspace(-300, -20, 0.1) + logspace(-20, np.log10(0.425), 3))
    zeros = [1 + s * 10.0 ** -k for k in range(1, 16) for s in (-1, 1)]
    zeros += [2 + s * 10.0 ** -k for k in range(1, 16) for s in (-1, 1)]
    gamma_x = sorted(set(logspace(-8, 8, 8) + list(np.linspace(0.05, 12, 240)) + zeros + [0.5, 1.5, 2.5, 10.0]))
    x0 = 1.4616321449683623
    psi_zero = [x0 + s * 10.0 ** -k for k in range(1, 10) for s in (-1, 1)] + [x0]
    psi_x = sorted(set(logspace(-8, 8, 8) + list(np.linspace(0.05, 14, 280)) + psi_zero))
    args = logspace(-8, 8, 0.5) + [0.5, 1.0, 1.0000001, 1.5, 2.0, 9.99, 10.0, 10.01, 1e6]
    beta_pairs = [(a, b) for a in args for b in args]
    return dict(
        erf=erf_x,
        erfc=erfc_x,
        erfcx=erfcx_x,
        erfcx_integral_1=integral_x,
        erfcx_integral_2=integral_x,
        normal_cdf=ncdf_x,
        log_normal_cdf=log_ncdf_x,
        normal_quantile=quantile_p,
        normal_quantile_offset=offset_delta,
        ln_gamma=gamma_x,
        digamma=psi_x,
        trigamma=psi_x,
        ln_beta=beta_pairs,
    )


REFERENCE = dict(
    erf=lambda x: mp.erf(mp.mpf(x)),
    erfc=lambda x: mp.erfc(mp.mpf(x)),
    erfcx=mp_erfcx,
    erfcx_integral_1=mp_i1,
    erfcx_integral_2=mp_i2,
    normal_cdf=mp_ncdf,
    log_normal_cdf=mp_log_ncdf,
    normal_quantile=mp_quantile,
    normal_quantile_offset=mp_quantile_offset,
    ln_gamma=lambda x: mp.loggamma(mp.mpf(x)),
    digamma=lambda x: mp.digamma(mp.mpf(x)),
    trigamma=lambda x: mp.psi(1, mp.mpf(x)),
    ln_beta=lambda a, b: mp.loggamma(mp.mpf(a)) + mp.loggamma(mp.mpf(b)) - mp.loggamma(mp.mpf(a) + mp.mpf(b)),
)

SCIPY = dict(
    erf=sc.erf,
    erfc=sc.erfc,
    erfcx=sc.erfcx,
    normal_cdf=sc.ndtr,
    log_normal_cdf=sc.log_ndtr,
    normal_quantile=sc.ndtri,
    normal_quantile_offset=lambda d: sc.ndtri(0.5 + d),
    ln_gamma=sc.gammaln,
    digamma=sc.psi,
    trigamma=lambda x: sc.polygamma(1, x),
    ln_beta=sc.betaln,
)


def main():
    arrays = {}
    for name, points in grids().items():
        if name == "ln_beta":
            a = np.array([p[0] for p in points])
            b = np.array([p[1] for p in points])
            exact = np.array([f64(REFERENCE[name](x, y)) for x, y in points])
            arrays[f"{name}.x"], arrays[f"{name}.y"] = a, b
            scipy_values = SCIPY[name](a, b)
        else:
            x = np.array(points, dtype=np.float64)
            exact = np.array([f64(REFERENCE[name](v)) for v in x])
            arrays[f"{name}.x"] = x
            scipy_values = SCIPY[name](x) if name in SCIPY else None
        arrays[f"{name}.mpmath"] = exact
        if scipy_values is not None:
            arrays[f"{name}.scipy"] = scipy_values
            finite = np.isfinite(exact) & (np.abs(exact) > 1e-300)
            rel = np.abs(scipy_values[finite] - exact[finite]) / np.abs(exact[finite])
            print(f"{name:24s} {len(exact):4d} points, SciPy vs mpmath: largest relative error {rel.max():.2e}")
        else:
            print(f"{name:24s} {len(exact):4d} points (no SciPy function)")
    header = (
        "special functions: arguments, mpmath values (40 digits, rounded to float64) and SciPy values\n"
        f"recorded by tools/scipy_special_fixtures.py with mpmath {mp.__version__}, scipy {scipy.__version__}, "
        f"numpy {np.__version__}, python {sys.version.split()[0]}"
    )
    write_fixture(os.path.join(DATA, "special.txt"), arrays, header)


if __name__ == "__main__":
    main()
