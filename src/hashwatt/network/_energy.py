"""Network power, energy and emissions in the style of the Cambridge index (CBECI), and attack cost.

Day by day over the shipped history (:func:`hashwatt.data.history.daily_history`) and the
hardware catalog (:func:`hashwatt.data.hardware.hardware_catalog`):

- lower bound: the whole hashrate runs on the most efficient model available that day;
- upper bound: on the least efficient model that is still profitable at the power price;
- best guess: on a mix of the profitable available models, each weighted by its profit margin
  (``"profit"``) or equally (``"equal"``, CBECI's original choice).

A model is *profitable* when its energy cost per hash is below the revenue per hash:
``e < R 3.6e6 / (H 86,400 p)`` [J/TH] with ``R`` the day's miner revenue [USD/day], ``H`` the
hashrate [TH/s] and ``p`` the power price [USD/kWh]. Power is hashrate x efficiency x PUE
(power usage effectiveness: cooling and other overhead on top of the machines).
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from hashwatt.chain import SECONDS_PER_DAY
from hashwatt.data.hardware import hardware_catalog
from hashwatt.data.history import daily_history
from hashwatt.network.errors import NetworkError, NetworkInputError

Weighting = Literal["profit", "equal"]

HOURS_PER_YEAR = 8766.0  # 365.25 days
J_PER_KWH = 3.6e6

#: World grid carbon intensity (Ember, via co2.js; CC BY 4.0) [gCO2/kWh], by year. The Bitcoin
#: mining mix is not the world mix: used before :data:`MINING_MIX_FROM_YEAR`, or when asked.
WORLD_CARBON_G_PER_KWH: dict[int, float] = {2021: 441.11, 2022: 485.99, 2023: 484.4, 2024: 472.94}

#: Carbon intensity of the electricity Bitcoin miners use where they mine [gCO2e/kWh]: derived
#: as 39.8 MtCO2e / 138 TWh, the network-wide figures of the Cambridge Digital Mining Industry
#: Report (CCAF, 2025-04; a survey of 49 firms with 48 % of the hashrate; energy mix 52.4 %
#: sustainable, 38.2 % natural gas, 8.9 % coal), :data:`MINING_MIX_SOURCE`.
MINING_MIX_CARBON_G_PER_KWH = 39.8e12 / 138e9
#: First year the survey's mix describes; earlier years fall back on the world mix (the 2022
#: mining mix had far more coal: 36.6 % in the same report), so they are not understated.
MINING_MIX_FROM_YEAR = 2024
MINING_MIX_SOURCE = (
    "Cambridge Digital Mining Industry Report, CCAF, 2025-04: "
    "https://www.jbs.cam.ac.uk/faculty-research/centres/alternative-finance/publications/"
    "cambridge-digital-mining-industry-report/"
)

CarbonMix = Literal["mining", "world"]

#: Launch months assumed for catalog models that carry no release date and whose family has
#: none either. Approximate first-shipment months quoted from memory of public announcements,
#: NOT from a cited source; every result marks rows that use them (``available_from_source``).
ASSUMED_RELEASE: dict[str, str] = {
    "Antminer S21 XP": "2024-11-01",
    "Antminer S21 Pro": "2024-07-01",
    "Antminer S21+ Hydro": "2024-12-01",
    "Antminer S21 Hydro": "2024-02-01",
    "Whatsminer M66S+": "2024-06-01",
    "Avalon A1466": "2024-01-01",
    "Avalon A1366": "2023-03-01",
    "Avalon A1346": "2022-06-01",
    "Whatsminer M50": "2022-07-01",
    "Antminer S19a Pro": "2021-06-01",
    "Antminer S19a": "2021-06-01",
    "Antminer S19j Pro": "2021-06-01",
    "Antminer S19j": "2021-05-01",
    "Whatsminer M30S++": "2020-10-01",
    "Whatsminer M30S+": "2020-06-01",
    "Whatsminer M31S+": "2020-06-01",
    "Whatsminer M31S": "2020-06-01",
    "Avalon 1246": "2020-12-01",
    "Avalon 1166 Pro": "2020-06-01",
    "Avalon 1146 Pro": "2019-10-01",
}

_BIN = re.compile(r"\s*\([^)]*\)\s*$")


@dataclass(frozen=True, slots=True)
class EnergyAssumptions:
    """Everything the energy estimate assumes, printed beside every result."""

    #: Electricity price all miners pay [USD/kWh] (CBECI's default is 0.05).
    power_price_usd_per_kwh: float = 0.05
    #: Power usage effectiveness for the lower bound, best guess and upper bound [ratio >= 1].
    pue_lower: float = 1.01
    pue_best: float = 1.10
    pue_upper: float = 1.20
    weighting: Weighting = "profit"
    #: Trailing mean applied to hashrate and revenue (daily values are noisy) [days].
    smoothing_days: int = 7
    #: Grid carbon intensity; None uses :func:`carbon_intensity_for_year` with ``carbon_mix`` [gCO2/kWh].
    carbon_g_per_kwh: float | None = None
    #: ``"mining"``: the mining-location mix (:data:`MINING_MIX_CARBON_G_PER_KWH`) from
    #: :data:`MINING_MIX_FROM_YEAR`, the world mix before; ``"world"``: the world mix throughout.
    carbon_mix: CarbonMix = "mining"
    #: Use :data:`ASSUMED_RELEASE` for models without a dated source (False drops them).
    use_assumed_release_dates: bool = True

    def __post_init__(self) -> None:
        if not self.power_price_usd_per_kwh > 0 or math.isinf(self.power_price_usd_per_kwh):
            raise NetworkInputError(
                f"power price must be > 0 USD/kWh, got {self.power_price_usd_per_kwh}",
                field="power_price_usd_per_kwh",
                value=self.power_price_usd_per_kwh,
            )
        for name in ("pue_lower", "pue_best", "pue_upper"):
            if not 1.0 <= getattr(self, name) <= 3.0:
                raise NetworkInputError(
                    f"{name} must lie in [1, 3], got {getattr(self, name)}",
                    field=name,
                    value=getattr(self, name),
                )
        if self.weighting not in ("profit", "equal"):
            raise NetworkInputError(
                f"weighting must be 'profit' or 'equal', got {self.weighting!r}",
                field="weighting",
                value=self.weighting,
            )
        if self.carbon_mix not in ("mining", "world"):
            raise NetworkInputError(
                f"carbon mix must be 'mining' or 'world', got {self.carbon_mix!r}",
                field="carbon_mix",
                value=self.carbon_mix,
            )
        if self.smoothing_days < 1:
            raise NetworkInputError(
                f"smoothing_days must be >= 1, got {self.smoothing_days}",
                field="smoothing_days",
                value=self.smoothing_days,
            )
        if self.carbon_g_per_kwh is not None and not 0 <= self.carbon_g_per_kwh <= 2000:
            raise NetworkInputError(
                f"carbon intensity must lie in [0, 2000] gCO2/kWh, got {self.carbon_g_per_kwh}",
                field="carbon_g_per_kwh",
                value=self.carbon_g_per_kwh,
            )


def _as_day(value: str | dt.date, name: str) -> pd.Timestamp:
    """A UTC calendar day as a naive midnight Timestamp; :class:`NetworkInputError` if unparsable."""
    try:
        day = value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value).strip())
    except ValueError as exc:
        raise NetworkInputError(
            f"{name} must be an ISO date (YYYY-MM-DD), got {value!r}", field=name, value=value
        ) from exc
    return pd.Timestamp(day.year, day.month, day.day)


def _family(model: str) -> str:
    return _BIN.sub("", model).strip()


def hardware_availability(catalog: pd.DataFrame | None = None) -> pd.DataFrame:
    """SHA-256 catalog models with the date each is taken to be available from.

    Columns: model, efficiency_j_per_th, hashrate_ths, power_w, available_from (Timestamp),
    available_from_source (``catalog``: the row's release date; ``family``: the earliest date
    of another hashrate bin of the same model; ``assumed``: :data:`ASSUMED_RELEASE`;
    ``unknown``: dropped from the estimate).
    """
    frame = (hardware_catalog() if catalog is None else catalog).copy()
    frame = frame[frame["algorithm"].astype(str).str.upper().str.replace("-", "") == "SHA256"]
    models = frame["model"].astype(str).tolist()
    dates = [
        None if d is None or (isinstance(d, float) and math.isnan(d)) else d for d in frame["release_date"]
    ]
    family_first: dict[str, dt.date] = {}
    for model, date in zip(models, dates, strict=True):
        if isinstance(date, dt.date):
            fam = _family(model)
            family_first[fam] = min(date, family_first.get(fam, date))
    available: list[pd.Timestamp | None] = []
    sources: list[str] = []
    for model, date in zip(models, dates, strict=True):
        fam = _family(model)
        if isinstance(date, dt.date):
            available.append(pd.Timestamp(date))
            sources.append("catalog")
        elif fam in family_first:
            available.append(pd.Timestamp(family_first[fam]))
            sources.append("family")
        elif fam in ASSUMED_RELEASE or model in ASSUMED_RELEASE:
            available.append(pd.Timestamp(ASSUMED_RELEASE.get(model, ASSUMED_RELEASE.get(fam, ""))))
            sources.append("assumed")
        else:
            available.append(None)
            sources.append("unknown")
    return pd.DataFrame(
        {
            "model": models,
            "efficiency_j_per_th": frame["efficiency_j_per_th"].to_numpy(dtype=np.float64),
            "hashrate_ths": frame["hashrate_ths"].to_numpy(dtype=np.float64),
            "power_w": frame["power_w"].to_numpy(dtype=np.float64),
            "available_from": pd.to_datetime(pd.Series(available, dtype="object")),
            "available_from_source": sources,
        }
    )


FloatOrArray = float | npt.NDArray[np.float64]


def break_even_efficiency_j_per_th(
    revenue_usd_per_day: FloatOrArray, hashrate_ths: FloatOrArray, power_price_usd_per_kwh: float
) -> FloatOrArray:
    """Least efficient hardware that still covers its electricity [J/TH].

    Notes
    -----
    ``e* = R J_PER_KWH / (H 86,400 p)``: revenue per TH (``R / (H 86,400)``, USD/TH) divided by
    the price of a joule (``p / 3.6e6``, USD/J). Arrays broadcast (one value per day).
    """
    if np.any(np.asarray(hashrate_ths) <= 0) or not power_price_usd_per_kwh > 0:
        raise NetworkInputError("hashrate and power price must be positive")
    return revenue_usd_per_day * J_PER_KWH / (hashrate_ths * SECONDS_PER_DAY * power_price_usd_per_kwh)


def carbon_intensity_for_year(year: int, mix: CarbonMix = "world") -> float:
    """Carbon intensity of mining electricity in ``year`` [gCO2/kWh].

    ``"world"``: the world grid mix of the nearest year in :data:`WORLD_CARBON_G_PER_KWH`;
    ``"mining"``: :data:`MINING_MIX_CARBON_G_PER_KWH` from :data:`MINING_MIX_FROM_YEAR` on, the
    world mix before.
    """
    if mix == "mining" and year >= MINING_MIX_FROM_YEAR:
        return MINING_MIX_CARBON_G_PER_KWH
    nearest = min(WORLD_CARBON_G_PER_KWH, key=lambda y: (abs(y - year), -y))
    return WORLD_CARBON_G_PER_KWH[nearest]


def network_energy_history(
    assumptions: EnergyAssumptions | None = None,
    *,
    history: pd.DataFrame | None = None,
    availability: pd.DataFrame | None = None,
    start: str | dt.date | None = None,
    end: str | dt.date | None = None,
) -> pd.DataFrame:
    """Daily lower bound, best guess and upper bound of network power and annualized energy.

    Columns: hashrate_ehs (smoothed), revenue_usd_per_day (smoothed), break_even_efficiency_j_per_th,
    models_available, models_profitable, models_profitable_assumed_date (of those, how many
    rely on :data:`ASSUMED_RELEASE`), efficiency_lower_j_per_th, efficiency_best_j_per_th,
    efficiency_upper_j_per_th, power_lower_gw, power_best_gw, power_upper_gw, energy_lower_twh_per_year,
    energy_best_twh_per_year, energy_upper_twh_per_year, carbon_g_per_kwh, emissions_best_mt_per_year,
    no_profitable_hardware (bool: then the upper bound and best guess fall back to the lower bound).
    Days before the first catalog model is available are dropped.
    """
    params = EnergyAssumptions() if assumptions is None else assumptions
    hist = daily_history() if history is None else history
    hw = hardware_availability() if availability is None else availability
    hw = hw[hw["available_from"].notna()]
    if not params.use_assumed_release_dates:
        hw = hw[hw["available_from_source"] != "assumed"]
    if hw.empty:
        raise NetworkError("no hardware with a known availability date in the catalog")
    revenue = (hist["subsidy_btc"] + hist["fees_btc_per_day"]) * hist["price_usd"]
    frame = pd.DataFrame(
        {
            "hashrate_ehs": hist["hashrate_ehs"].rolling(params.smoothing_days, min_periods=1).mean(),
            "revenue_usd_per_day": revenue.rolling(params.smoothing_days, min_periods=1).mean(),
        },
        index=pd.DatetimeIndex(hist.index),
    )
    first_available = hw["available_from"].min()
    frame = frame[frame.index >= first_available]
    if start is not None:
        frame = frame[frame.index >= _as_day(start, "start")]
    if end is not None:
        frame = frame[frame.index <= _as_day(end, "end")]
    frame = frame.dropna()
    if frame.empty:
        raise NetworkInputError("no day of the history lies in the requested range with hardware available")

    hashrate_ths = frame["hashrate_ehs"].to_numpy(dtype=np.float64) * 1e6
    break_even = np.asarray(
        break_even_efficiency_j_per_th(
            frame["revenue_usd_per_day"].to_numpy(dtype=np.float64),
            hashrate_ths,
            params.power_price_usd_per_kwh,
        ),
        dtype=np.float64,
    )
    eff = hw["efficiency_j_per_th"].to_numpy(dtype=np.float64)[None, :]
    avail_ns = hw["available_from"].to_numpy(dtype="datetime64[ns]")[None, :]
    days_ns = frame.index.to_numpy(dtype="datetime64[ns]")[:, None]
    available = avail_ns <= days_ns
    profitable = available & (eff < break_even[:, None])
    assumed = (hw["available_from_source"].to_numpy() == "assumed")[None, :]
    any_profitable = profitable.any(axis=1)

    lower = np.where(available, eff, np.inf).min(axis=1)
    upper = np.where(any_profitable, np.where(profitable, eff, -np.inf).max(axis=1), lower)
    if params.weighting == "profit":
        weights = np.where(profitable, (break_even[:, None] - eff) / break_even[:, None], 0.0)
    else:
        weights = profitable.astype(np.float64)
    weight_sum = weights.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        best = np.where(
            any_profitable, (weights * eff).sum(axis=1) / np.where(weight_sum > 0, weight_sum, 1.0), lower
        )

    def gw(efficiency: np.ndarray, pue: float) -> np.ndarray:
        return np.asarray(hashrate_ths * efficiency * pue / 1e9, dtype=np.float64)

    power_lower, power_best, power_upper = (
        gw(lower, params.pue_lower),
        gw(best, params.pue_best),
        gw(upper, params.pue_upper),
    )
    if params.carbon_g_per_kwh is None:
        intensity = np.array(
            [carbon_intensity_for_year(int(y), params.carbon_mix) for y in frame.index.year], dtype=np.float64
        )
    else:
        intensity = np.full(len(frame), float(params.carbon_g_per_kwh))
    energy_best = power_best * HOURS_PER_YEAR / 1e3
    result = pd.DataFrame(
        {
            "hashrate_ehs": frame["hashrate_ehs"].to_numpy(dtype=np.float64),
            "revenue_usd_per_day": frame["revenue_usd_per_day"].to_numpy(dtype=np.float64),
            "break_even_efficiency_j_per_th": break_even,
            "models_available": available.sum(axis=1),
            "models_profitable": profitable.sum(axis=1),
            "models_profitable_assumed_date": (profitable & assumed).sum(axis=1),
            "efficiency_lower_j_per_th": lower,
            "efficiency_best_j_per_th": best,
            "efficiency_upper_j_per_th": upper,
            "power_lower_gw": power_lower,
            "power_best_gw": power_best,
            "power_upper_gw": power_upper,
            "energy_lower_twh_per_year": power_lower * HOURS_PER_YEAR / 1e3,
            "energy_best_twh_per_year": energy_best,
            "energy_upper_twh_per_year": power_upper * HOURS_PER_YEAR / 1e3,
            "carbon_g_per_kwh": intensity,
            # TWh x gCO2/kWh: 1e9 kWh x g / 1e12 g per Mt
            "emissions_best_mt_per_year": energy_best * intensity / 1e3,
            "no_profitable_hardware": ~any_profitable,
        },
        index=frame.index,
    )
    result.index.name = "date"
    return result


def energy_by_year(power_gw: pd.DataFrame) -> pd.DataFrame:
    """Energy used in each calendar year [TWh] from daily power [GW]: the sum of GW x 24 h / 1,000.

    Every ``power_X_gw`` column becomes ``energy_X_twh`` (hashwatt's ``power_best_gw`` and
    CBECI's ``power_guess_gw`` are summed alike); ``days`` counts each year's days (a partial
    year is not scaled up). With ``carbon_g_per_kwh`` and ``power_best_gw`` (as
    :func:`network_energy_history` gives), ``emissions_best_mt`` sums the day's energy x intensity.
    """
    columns = [c for c in power_gw.columns if re.fullmatch(r"power_\w+_gw", str(c))]
    if not columns:
        raise NetworkInputError("no power column (power_..._gw) to sum")
    years = pd.DatetimeIndex(power_gw.index).year
    grouped = power_gw[columns].groupby(years)
    out = grouped.sum() * 24.0 / 1e3
    out.columns = ["energy_" + str(c)[len("power_") : -len("_gw")] + "_twh" for c in columns]
    out.insert(0, "days", grouped.size())
    if "carbon_g_per_kwh" in power_gw.columns and "power_best_gw" in power_gw.columns:
        # GW x 24 h = GWh = 1e6 kWh; x gCO2/kWh = 1e6 g per GWh-g; 1 Mt = 1e12 g
        daily_mt = power_gw["power_best_gw"] * 24.0 * power_gw["carbon_g_per_kwh"] / 1e6
        out["emissions_best_mt"] = daily_mt.groupby(years).sum()
    out.index.name = "year"
    return out


@dataclass(frozen=True, slots=True)
class AttackCostRow:
    """Cost of adding ``attacker_hashrate_ehs`` for ``duration_h`` hours, three ways."""

    duration_h: float
    #: Renting the hashrate at hashprice x (1 + premium) [USD].
    rental_cost_usd: float
    #: Electricity for own machines over the duration, at the power price, with PUE [USD].
    energy_mwh: float
    energy_cost_usd: float
    #: Mining revenue the attacker's hashrate would earn meanwhile (offsets the cost) [USD].
    mining_revenue_usd: float


@dataclass(frozen=True, slots=True)
class AttackCost:
    """A crypto51-style majority-attack estimate for one day of the history, assumptions included."""

    date: dt.date
    network_hashrate_ehs: float
    #: Attacker's share of the combined hashrate once it joins [fraction].
    attacker_share: float
    attacker_hashrate_ehs: float
    hashprice_usd_per_ph_day: float
    miner_model: str
    miner_hashrate_ths: float
    miner_power_w: float
    machines: int
    #: Hardware price assumed [USD per TH/s]; the catalog publishes no prices.
    hardware_usd_per_th: float
    hardware_cost_usd: float
    power_mw: float
    power_price_usd_per_kwh: float
    pue: float
    rental_premium: float
    rows: tuple[AttackCostRow, ...] = field(default_factory=tuple)


def attack_cost(
    *,
    day: str | dt.date | None = None,
    attacker_share: float = 0.5,
    durations_h: tuple[float, ...] = (1.0, 24.0),
    power_price_usd_per_kwh: float = 0.05,
    pue: float = 1.10,
    hardware_usd_per_th: float = 15.0,
    rental_premium: float = 0.10,
    miner_model: str | None = None,
    history: pd.DataFrame | None = None,
    availability: pd.DataFrame | None = None,
) -> AttackCost:
    """Hashrate, hardware, energy and rental cost of matching a share of the network for 1 h / 1 day.

    Parameters: ``day`` of the history (default: its last day); ``attacker_share`` share of the
    combined hashrate the attacker wants [fraction, 0.5 = as much as the honest network];
    ``durations_h`` [h]; ``power_price_usd_per_kwh`` [USD/kWh]; ``pue`` [ratio];
    ``hardware_usd_per_th`` machine price assumption [USD per TH/s]; ``rental_premium`` over
    hashprice that a hashrate market charges [fraction]; ``miner_model`` (default: the most
    efficient model available that day).

    Notes
    -----
    Attacker hashrate ``H_a = H q / (1 - q)``. Rental cost ``H_a [PH/s] x hashprice x h / 24 x
    (1 + premium)``, with hashprice the day's miner revenue per PH/s per day. Energy ``H_a e PUE h``.
    No hashrate market today could rent a whole network's hashrate; the rental column is the
    crypto51 convention, not a feasibility claim.
    """
    if not 0.0 < attacker_share < 1.0:
        raise NetworkInputError(
            f"attacker share must lie in (0, 1), got {attacker_share}",
            field="attacker_share",
            value=attacker_share,
        )
    if hardware_usd_per_th < 0 or rental_premium < 0 or power_price_usd_per_kwh < 0 or pue < 1:
        raise NetworkInputError(
            "prices and premium must be >= 0 and PUE >= 1",
            field="hardware_usd_per_th,rental_premium,power_price_usd_per_kwh,pue",
            value=(hardware_usd_per_th, rental_premium, power_price_usd_per_kwh, pue),
        )
    if not durations_h or any(h <= 0 for h in durations_h):
        raise NetworkInputError("durations must be positive hours", field="durations_h", value=durations_h)
    hist = daily_history() if history is None else history
    when = pd.Timestamp(hist.index[-1]) if day is None else _as_day(day, "day")
    if when not in hist.index:
        raise NetworkInputError(
            f"{when.date()} is outside the history ({hist.index[0].date()} .. {hist.index[-1].date()})",
            field="day",
            value=day,
        )
    row: dict[str, float] = {
        name: float(hist[name].to_numpy(dtype=np.float64)[hist.index.get_loc(when)])
        for name in ("hashrate_ehs", "subsidy_btc", "fees_btc_per_day", "price_usd")
    }
    hashrate_ehs = row["hashrate_ehs"]
    revenue_usd_day = (row["subsidy_btc"] + row["fees_btc_per_day"]) * row["price_usd"]
    hashprice = revenue_usd_day / (hashrate_ehs * 1e3)
    hw = hardware_availability() if availability is None else availability
    if miner_model is None:
        usable = hw[hw["available_from"].notna() & (hw["available_from"] <= when)]
        if usable.empty:
            raise NetworkError(f"no catalog model is available on {when.date()}")
        chosen = usable.sort_values("efficiency_j_per_th").iloc[0]
    else:
        match = hw[hw["model"].str.lower() == miner_model.lower()]
        if match.empty:
            raise NetworkInputError(
                f"miner model {miner_model!r} is not in the catalog", field="miner_model", value=miner_model
            )
        chosen = match.iloc[0]
    attacker_ehs = hashrate_ehs * attacker_share / (1.0 - attacker_share)
    miner_ths = float(chosen["hashrate_ths"])
    miner_w = float(chosen["power_w"])
    machines = math.ceil(attacker_ehs * 1e6 / miner_ths)
    power_mw = machines * miner_w * pue / 1e6
    rows = tuple(
        AttackCostRow(
            duration_h=float(h),
            rental_cost_usd=attacker_ehs * 1e3 * hashprice * h / 24.0 * (1.0 + rental_premium),
            energy_mwh=power_mw * h,
            energy_cost_usd=power_mw * h * 1e3 * power_price_usd_per_kwh,
            mining_revenue_usd=attacker_ehs * 1e3 * hashprice * h / 24.0,
        )
        for h in durations_h
    )
    return AttackCost(
        date=when.date(),
        network_hashrate_ehs=hashrate_ehs,
        attacker_share=attacker_share,
        attacker_hashrate_ehs=attacker_ehs,
        hashprice_usd_per_ph_day=hashprice,
        miner_model=str(chosen["model"]),
        miner_hashrate_ths=miner_ths,
        miner_power_w=miner_w,
        machines=machines,
        hardware_usd_per_th=hardware_usd_per_th,
        hardware_cost_usd=attacker_ehs * 1e6 * hardware_usd_per_th,
        power_mw=power_mw,
        power_price_usd_per_kwh=power_price_usd_per_kwh,
        pue=pue,
        rental_premium=rental_premium,
        rows=rows,
    )


__all__ = [
    "ASSUMED_RELEASE",
    "HOURS_PER_YEAR",
    "MINING_MIX_CARBON_G_PER_KWH",
    "MINING_MIX_FROM_YEAR",
    "MINING_MIX_SOURCE",
    "WORLD_CARBON_G_PER_KWH",
    "AttackCost",
    "AttackCostRow",
    "CarbonMix",
    "EnergyAssumptions",
    "Weighting",
    "attack_cost",
    "break_even_efficiency_j_per_th",
    "carbon_intensity_for_year",
    "energy_by_year",
    "hardware_availability",
    "network_energy_history",
]
