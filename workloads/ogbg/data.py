"""The ogbg dev data: real QM9 molecules as ogbg-molpcba-style graphs with multi-task labels.

    paceline data prepare ogbg                  # into the cache (about 20 s)
    paceline data prepare ogbg --data-dir DIR   # or into DIR

Source: the QM9 table shipped by the ``qm9pack`` package (MIT; 130,831 molecules with DFT
properties, Ramakrishnan et al. 2014), read straight from ``qm9pack/data/qm9_part{1,2,3}.csv``.
Nothing is downloaded.

* Graphs: heavy atoms are nodes with OGB's 9 atom features, bonds are two directed edges with
  OGB's 3 bond features (:mod:`workloads.ogbg.smiles` parses the SMILES and perceives rings,
  aromaticity, hybridisation and conjugation; features are small integers, fed to the model
  as floats exactly like the official workload feeds ogbg-molpcba's).
* Labels: ``len(TASKS)`` binary tasks; each asks whether a QM9 property of the molecule lies in
  the top or bottom ``TAIL`` of its distribution over all 130,831 molecules. Like
  ogbg-molpcba, some labels are missing (NaN): task ``t`` is observed on a fraction
  ``AVAILABILITY[t]`` of molecules, chosen by a hash of (QM9 index, task) so the rule does
  not depend on the subsample.
* Splits: ``NUM_MOLECULES`` molecules drawn with a fixed seed, then a scaffold split as OGB's
  (largest scaffold groups to train, the rarer ones to validation and test).

Files (``<folder>/{train,validation,test}.npz``, also the layout ``--data-dir`` must hold):
``node_features`` int8 [nodes, 9], ``edge_features`` int8 [edges, 3], ``senders`` and
``receivers`` int16 [edges] (node indices within the graph), ``n_node``/``n_edge`` int32
[graphs], ``labels`` float32 [graphs, tasks] with NaN for missing, ``qm9_index`` int32.
"""

from __future__ import annotations

import hashlib
import importlib.util
from collections.abc import Callable
from pathlib import Path

import numpy as np

from sdk.errors import PacelineError
from workloads.common import data_cache
from workloads.ogbg import smiles

NAME = "ogbg"
SEED = 20240611
NUM_MOLECULES = 50_000
SPLIT_FRACTIONS = {"train": 0.8, "validation": 0.1, "test": 0.1}
TAIL = 0.05  # a "high" task is positive above the 95th percentile, a "low" one below the 5th
# QM9 atomic reference energies U0 in Hartree (B3LYP/6-31G(2df,p), from the QM9 paper's atomref)
ATOM_U0 = {"H": -0.500273, "C": -37.846772, "N": -54.583861, "O": -75.064579, "F": -99.718730}
STOICHIOMETRY_ORDER = ("H", "C", "N", "O", "F")
CSV_COLUMNS = (
    "Index", "SMILES", "N_atoms", "Stoichiometry", "Mulliken_pop", "Harmonic_Freq_cmi",
    "RotA_GHz", "RotC_GHz", "Dipole_debye", "Polarizability_bohr3", "HOMO_au", "LUMO_au",
    "HOMO_LUMO_gap_au", "R2_bohr2", "ZPVE_au", "InternalEnergy_0K_au", "Enthalphy_298K_au",
    "GibbsFreeEnergy_298K_au", "Heatcapacity_Cv_cal_mol_K",
)


class _Columns:
    """QM9 columns as float arrays, with list-valued columns parsed once."""

    def __init__(self, table) -> None:  # noqa: ANN001 - a pandas frame
        self.table = table
        self._lists: dict[str, list[np.ndarray]] = {}

    def __getitem__(self, column: str) -> np.ndarray:
        return self.table[column].to_numpy(dtype=float)

    def stat(self, column: str, fn: Callable) -> np.ndarray:
        if column not in self._lists:
            self._lists[column] = [np.array(v[1:-1].split(","), float)
                                   for v in self.table[column]]
        return np.array([fn(v) for v in self._lists[column]])


def _per_atom(column: str) -> Callable:
    return lambda c: c[column] / c["N_atoms"]


def _list_stat(column: str, fn: Callable) -> Callable:
    return lambda c: c.stat(column, fn)


def _atomization_per_atom(c: _Columns) -> np.ndarray:
    counts = np.array([[int(v) for v in s[1:-1].split(",")] for s in c.table["Stoichiometry"]])
    reference = counts @ np.array([ATOM_U0[e] for e in STOICHIOMETRY_ORDER])
    return (c["InternalEnergy_0K_au"] - reference) / c["N_atoms"]


# The molecular properties the tasks threshold: name -> function of the QM9 columns.
PROPERTIES: dict[str, Callable] = {
    "dipole_moment": lambda c: c["Dipole_debye"],
    "polarizability_per_atom": _per_atom("Polarizability_bohr3"),
    "homo": lambda c: c["HOMO_au"],
    "lumo": lambda c: c["LUMO_au"],
    "gap": lambda c: c["HOMO_LUMO_gap_au"],
    "spatial_extent": lambda c: c["R2_bohr2"],
    "zpve_per_atom": _per_atom("ZPVE_au"),
    "heat_capacity_per_atom": _per_atom("Heatcapacity_Cv_cal_mol_K"),
    "atomization_energy_per_atom": _atomization_per_atom,
    "entropy_term_per_atom": lambda c: (c["Enthalphy_298K_au"] - c["GibbsFreeEnergy_298K_au"])
    / c["N_atoms"],
    "rotational_constant_a": lambda c: c["RotA_GHz"],
    "rotational_constant_c": lambda c: c["RotC_GHz"],
    "max_mulliken_charge": _list_stat("Mulliken_pop", np.max),
    "min_mulliken_charge": _list_stat("Mulliken_pop", np.min),
    "max_frequency": _list_stat("Harmonic_Freq_cmi", np.max),
    "min_frequency": _list_stat("Harmonic_Freq_cmi", np.min),
}
# One "high" and one "low" task per property, in this order.
TASKS: tuple[str, ...] = tuple(f"{p}_{side}" for p in PROPERTIES for side in ("high", "low"))
# Fraction of molecules on which each task is labelled (the rest are missing, as in molpcba).
AVAILABILITY = np.round(np.linspace(0.9, 0.3, len(TASKS)), 4)


def qm9_folder() -> Path:
    spec = importlib.util.find_spec("qm9pack")
    if spec is None or not spec.submodule_search_locations:
        raise PacelineError("The ogbg dev data comes from the qm9pack package; install it with "
                            "`pip install qm9pack`.")
    folder = Path(spec.submodule_search_locations[0]) / "data"
    if not (folder / "qm9_part1.csv").is_file():
        raise PacelineError(f"qm9pack is installed but {folder}/qm9_part1.csv is missing.")
    return folder


def read_qm9(folder: Path | None = None):  # noqa: ANN201 - a pandas frame
    import pandas as pd

    folder = folder or qm9_folder()
    parts = [pd.read_csv(folder / f"qm9_part{i}.csv", usecols=list(CSV_COLUMNS))
             for i in (1, 2, 3)]
    return pd.concat(parts, ignore_index=True)


def property_table(table) -> np.ndarray:  # noqa: ANN001
    """[molecules, properties] float64 values of :data:`PROPERTIES`."""
    columns = _Columns(table)
    return np.stack([np.asarray(fn(columns), float) for fn in PROPERTIES.values()], axis=1)


def binary_labels(values: np.ndarray, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """[molecules, tasks] 0/1: property above ``high`` (…_high) or below ``low`` (…_low)."""
    out = np.empty((len(values), 2 * values.shape[1]), np.float32)
    out[:, 0::2] = values > high
    out[:, 1::2] = values < low
    return out


def _mix64(x: np.ndarray) -> np.ndarray:
    """SplitMix64's finaliser: a fixed, well-mixed hash of uint64 values."""
    x = x.astype(np.uint64)
    with np.errstate(over="ignore"):
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return x ^ (x >> np.uint64(31))


def label_observed(qm9_index: np.ndarray, num_tasks: int) -> np.ndarray:
    """[molecules, tasks] bool: whether a label is present (hash of index and task < rate)."""
    keys = (qm9_index.astype(np.uint64)[:, None] * np.uint64(1_000_003)
            + np.arange(num_tasks, dtype=np.uint64)[None, :] + np.uint64(SEED))
    uniform = (_mix64(keys) >> np.uint64(11)).astype(np.float64) / float(1 << 53)
    return uniform < AVAILABILITY[None, :num_tasks]


def graph_of(mol: smiles.Molecule) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """OGB-encoded (node features, edge features, senders, receivers) of one molecule.

    Atom features: atomic number - 1, chirality tag, total degree, formal charge + 5, total
    H count, radical electrons, hybridisation (SP 0, SP2 1, SP3 2), aromatic, in ring. Bond
    features: type (single 0, double 1, triple 2, aromatic 3), stereo, conjugated. QM9's
    SMILES carry no stereo and no radicals, so those three features are 0 as in most of
    ogbg-molpcba. Each bond gives edges i->j (first half) and j->i (second half).
    """
    nodes = np.array([[smiles.ATOMIC_NUMBER[a.element] - 1, 0,
                       len(a.neighbors) + a.num_h, a.charge + 5, a.num_h, 0,
                       a.hybridization, int(a.aromatic), int(a.in_ring)]
                      for a in mol.atoms], np.int8).reshape(-1, 9)
    bond_feats = [[smiles.AROMATIC if b.aromatic else b.order - 1, 0, int(b.conjugated)]
                  for b in mol.bonds]
    edges = np.array(bond_feats + bond_feats, np.int8).reshape(-1, 3)
    begin = [b.begin for b in mol.bonds]
    end = [b.end for b in mol.bonds]
    return nodes, edges, np.array(begin + end, np.int16), np.array(end + begin, np.int16)


def scaffold_key(mol: smiles.Molecule) -> str:
    """A hash of the molecule's ring framework (side chains pruned; '' if acyclic).

    Built with three rounds of Weisfeiler-Lehman relabelling over (element, bond order), so
    equal frameworks get equal keys.
    """
    core = smiles._ring_candidates(mol)
    if not core:
        return ""
    keep = set(core)
    labels = {i: mol.atoms[i].element for i in core}
    for _ in range(3):
        labels = {i: hashlib.md5((labels[i] + "|" + ",".join(sorted(
            f"{mol.bond_between(i, j).order}{labels[j]}" for j in mol.atoms[i].neighbors
            if j in keep))).encode()).hexdigest()[:16] for i in core}
    return hashlib.md5(",".join(sorted(labels.values())).encode()).hexdigest()


def scaffold_split(keys: list[str]) -> dict[str, np.ndarray]:
    """OGB's scaffold split: scaffold groups by decreasing size fill train, then validation,
    then test (ties broken by key)."""
    groups: dict[str, list[int]] = {}
    for i, key in enumerate(keys):
        groups.setdefault(key, []).append(i)
    ordered = sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0]))
    n = len(keys)
    cut_train = SPLIT_FRACTIONS["train"] * n
    cut_val = (SPLIT_FRACTIONS["train"] + SPLIT_FRACTIONS["validation"]) * n
    out: dict[str, list[int]] = {s: [] for s in SPLIT_FRACTIONS}
    for _, members in ordered:
        if len(out["train"]) + len(members) <= cut_train:
            out["train"].extend(members)
        elif len(out["train"]) + len(out["validation"]) + len(members) <= cut_val:
            out["validation"].extend(members)
        else:
            out["test"].extend(members)
    return {s: np.array(sorted(v), np.int64) for s, v in out.items()}


def _pack(graphs: list[tuple], labels: np.ndarray, qm9_index: np.ndarray) -> dict:
    return {
        "node_features": np.concatenate([g[0] for g in graphs]),
        "edge_features": np.concatenate([g[1] for g in graphs]),
        "senders": np.concatenate([g[2] for g in graphs]),
        "receivers": np.concatenate([g[3] for g in graphs]),
        "n_node": np.array([len(g[0]) for g in graphs], np.int32),
        "n_edge": np.array([len(g[1]) for g in graphs], np.int32),
        "labels": labels.astype(np.float32),
        "qm9_index": qm9_index.astype(np.int32),
    }


def build_dev(folder: Path, num_molecules: int = NUM_MOLECULES, source: Path | None = None,
              progress: bool = True) -> dict:
    """Write the train/validation/test graphs into ``folder``; returns facts for info.json."""
    from workloads.common.progress import tqdm  # plain lines when not on a terminal

    table = read_qm9(source)
    values = property_table(table)
    low = np.quantile(values, TAIL, axis=0)
    high = np.quantile(values, 1.0 - TAIL, axis=0)
    rng = np.random.default_rng(SEED)
    chosen = np.sort(rng.choice(len(table), size=min(num_molecules, len(table)), replace=False))
    graphs, keys = [], []
    for s in tqdm(table["SMILES"].to_numpy()[chosen], desc="ogbg: QM9 SMILES -> graphs",
                  unit="mol", disable=not progress, mininterval=1.0):
        mol = smiles.parse(s)
        graphs.append(graph_of(mol))
        keys.append(scaffold_key(mol))
    qm9_index = table["Index"].to_numpy()[chosen]
    labels = binary_labels(values[chosen], low, high)
    labels[~label_observed(qm9_index, len(TASKS))] = np.nan
    sizes = {}
    for split, members in scaffold_split(keys).items():
        if split == "train":  # stored shuffled so the eval_train subset is a random sample
            members = rng.permutation(members)
        data_cache.save_npz(folder, split, **_pack([graphs[i] for i in members],
                                                   labels[members], qm9_index[members]))
        sizes[split] = len(members)
    return {
        "source": "QM9 via qm9pack (MIT); Ramakrishnan et al., Sci. Data 1, 140022 (2014)",
        "license": "MIT (qm9pack); QM9 data CC0/CC-BY as published",
        "splits": sizes,
        "tasks": list(TASKS),
        "thresholds_low": dict(zip(PROPERTIES, low.round(8).tolist(), strict=True)),
        "thresholds_high": dict(zip(PROPERTIES, high.round(8).tolist(), strict=True)),
        "mean_nodes": float(np.mean([len(g[0]) for g in graphs])),
        "mean_edges": float(np.mean([len(g[1]) for g in graphs])),
        "label_rate_observed": float(np.mean(~np.isnan(labels))),
        "positive_rate": float(np.nanmean(labels)),
    }


def prepare(data_dir: str | None = None, force: bool = False) -> Path:
    """Build the dev graphs into the cache (``paceline data prepare ogbg``)."""
    return data_cache.prepare(NAME, build_dev, data_dir, force=force)


def load(data_dir: str | None = None) -> dict[str, dict[str, np.ndarray]]:
    """All dev splits as arrays (prepared on first use)."""
    folder = prepare(data_dir)
    return {split: data_cache.load_npz(folder, split) for split in SPLIT_FRACTIONS}
