"""A small SMILES reader and the chemistry perception the ogbg dev data needs.

QM9's SMILES are Kekulé SMILES (no lowercase aromatic atoms, no stereo) over C, N, O, F with a
few charged bracket atoms (``[NH3+]``, ``[O-]``, ``[C-]``, ...). This module parses that
subset plus ``%nn`` ring closures, and perceives what OGB's ``smiles2graph`` reads from RDKit:

* implicit hydrogens from the default valences (C 4, N 3, O 2, F 1, shifted by the charge);
* ring membership (a bond is in a ring when removing it keeps its atoms connected);
* aromaticity by Hückel's rule on every simple ring of 3 to 8 atoms: each ring atom must be
  sp2-capable and the ring must hold 4n+2 pi electrons (an atom with a double bond inside the
  ring gives 1, one with an exocyclic double bond to N or O gives 0, a lone-pair atom (N, O
  or a carbanion with only single bonds) gives 2; an exocyclic C=C disqualifies the ring);
* hybridisation: aromatic or one double bond -> SP2, a triple bond or two double bonds -> SP,
  an N or O lone pair next to a multiple bond -> SP2 (conjugated), otherwise SP3;
* conjugation: aromatic bonds; multiple bonds next to another multiple bond or lone pair; single
  bonds joining a multiple-bonded atom to another multiple-bonded or lone-pair atom.

These are simplifications of RDKit's rules (no fused-ring envelopes, F lone pairs ignored),
documented in ``docs/workloads/ogbg.md``.

    >>> mol = parse("OC1=CC=CC=C1")  # phenol, Kekulé form
    >>> [a.aromatic for a in mol.atoms]
    [False, True, True, True, True, True, True]
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sdk.errors import PacelineError

ORGANIC = ("Cl", "Br", "B", "C", "N", "O", "P", "S", "F", "I")
ATOMIC_NUMBER = {"H": 1, "B": 5, "C": 6, "N": 7, "O": 8, "F": 9, "P": 15, "S": 16, "Cl": 17,
                 "Br": 35, "I": 53}
DEFAULT_VALENCE = {"B": 3, "C": 4, "N": 3, "O": 2, "F": 1, "P": 3, "S": 2, "Cl": 1, "Br": 1,
                   "I": 1}
BOND_ORDER = {"-": 1, "=": 2, "#": 3}
LONE_PAIR_ELEMENTS = ("N", "O")
# OGB's feature vocabularies (ogb.utils.features): hybridisation and bond-type indices
SP, SP2, SP3 = 0, 1, 2
SINGLE, DOUBLE, TRIPLE, AROMATIC = 0, 1, 2, 3
MAX_AROMATIC_RING = 8
MAX_RING = 12  # cycles longer than this are not searched (QM9 molecules have at most 9 atoms)


@dataclass
class Atom:
    element: str
    charge: int = 0
    bracket_h: int | None = None  # explicit H count of a bracket atom
    num_h: int = 0
    aromatic: bool = False
    in_ring: bool = False
    hybridization: int = SP3
    neighbors: list[int] = field(default_factory=list)


@dataclass
class Bond:
    begin: int
    end: int
    order: int
    aromatic: bool = False
    in_ring: bool = False
    conjugated: bool = False


@dataclass
class Molecule:
    atoms: list[Atom]
    bonds: list[Bond]

    def bond_between(self, i: int, j: int) -> Bond:
        return self._index[i, j]

    def __post_init__(self) -> None:
        self._index = {}
        self.atom_bonds: list[list[Bond]] = [[] for _ in self.atoms]
        for b in self.bonds:
            self._index[b.begin, b.end] = self._index[b.end, b.begin] = b
            self.atom_bonds[b.begin].append(b)
            self.atom_bonds[b.end].append(b)


class SmilesError(PacelineError):
    """A SMILES string outside the supported subset."""


def _read_bracket(text: str, pos: int) -> tuple[Atom, int]:
    close = text.find("]", pos)
    if close < 0:
        raise SmilesError(f"Unclosed bracket atom in SMILES {text!r}.")
    body, i = text[pos + 1 : close], 0
    while i < len(body) and body[i].isdigit():  # isotope (ignored)
        i += 1
    element = body[i : i + 2] if body[i : i + 2] in ATOMIC_NUMBER else body[i : i + 1]
    if element not in ATOMIC_NUMBER or element == "H":
        raise SmilesError(f"Unsupported bracket atom [{body}] in SMILES {text!r}.")
    i += len(element)
    if body[i : i + 1] == "@":
        raise SmilesError(f"Stereo SMILES are not supported ({text!r}).")
    h = 0
    if body[i : i + 1] == "H":
        i += 1
        h = 1
        if body[i : i + 1].isdigit():
            h = int(body[i])
            i += 1
    charge = 0
    while i < len(body) and body[i] in "+-":
        sign = 1 if body[i] == "+" else -1
        i += 1
        if body[i : i + 1].isdigit():
            charge += sign * int(body[i])
            i += 1
        else:
            charge += sign
    if i != len(body):
        raise SmilesError(f"Unsupported bracket atom [{body}] in SMILES {text!r}.")
    return Atom(element, charge, bracket_h=h), close + 1


def parse(smiles: str) -> Molecule:
    """Parse a Kekulé SMILES string and perceive rings, aromaticity, hybridisation, H counts."""
    atoms: list[Atom] = []
    bonds: list[Bond] = []
    stack: list[int] = []
    open_rings: dict[int, tuple[int, int | None]] = {}
    previous: int | None = None
    pending: int | None = None
    pos = 0
    while pos < len(smiles):
        ch = smiles[pos]
        if ch.islower():
            raise SmilesError(f"Aromatic (lowercase) SMILES are not supported; give the "
                              f"Kekulé form ({smiles!r}).")
        if ch == "[" or ch.isupper():
            if ch == "[":
                atom, pos = _read_bracket(smiles, pos)
            else:
                name = smiles[pos : pos + 2] if smiles[pos : pos + 2] in ORGANIC else ch
                if name not in ORGANIC:
                    raise SmilesError(f"Unsupported atom {name!r} in SMILES {smiles!r}.")
                atom, pos = Atom(name), pos + len(name)
            atoms.append(atom)
            index = len(atoms) - 1
            if previous is not None:
                bonds.append(Bond(previous, index, pending or 1))
            previous, pending = index, None
            continue
        if ch in BOND_ORDER:
            pending = BOND_ORDER[ch]
        elif ch == "(":
            stack.append(previous)
        elif ch == ")":
            if not stack:
                raise SmilesError(f"Unbalanced parentheses in SMILES {smiles!r}.")
            previous = stack.pop()
        elif ch.isdigit() or ch == "%":
            number = int(smiles[pos + 1 : pos + 3]) if ch == "%" else int(ch)
            pos += 2 if ch == "%" else 0
            if previous is None:
                raise SmilesError(f"Ring closure before any atom in SMILES {smiles!r}.")
            if number in open_rings:
                start, order = open_rings.pop(number)
                bonds.append(Bond(start, previous, pending or order or 1))
            else:
                open_rings[number] = (previous, pending)
            pending = None
        elif ch == ".":
            previous = None
        else:
            raise SmilesError(f"Unsupported character {ch!r} in SMILES {smiles!r}.")
        pos += 1
    if open_rings or stack:
        raise SmilesError(f"Unclosed ring or branch in SMILES {smiles!r}.")
    mol = Molecule(atoms, bonds)
    _perceive(mol)
    return mol


def _valence(atom: Atom) -> int:
    base = DEFAULT_VALENCE[atom.element]
    if atom.element in ("C", "B"):
        return base - abs(atom.charge)
    return base + atom.charge


def _simple_cycles(mol: Molecule) -> list[list[int]]:
    """Every simple cycle of 3..MAX_RING atoms, once each.

    A cycle is reported from its smallest atom, in the direction whose second atom is smaller
    than its last; paths are tracked as bit masks.
    """
    cycles: list[list[int]] = []
    core = _ring_candidates(mol)
    core_mask = sum(1 << i for i in core)
    neighbors = [[j for j in a.neighbors if core_mask >> j & 1] for a in mol.atoms]
    for start in core:
        stack = [(start, 1 << start, (start,))]
        while stack:
            node, mask, path = stack.pop()
            for nxt in neighbors[node]:
                if nxt == start:
                    if len(path) >= 3 and path[1] < path[-1]:
                        cycles.append(list(path))
                elif nxt > start and not mask >> nxt & 1 and len(path) < MAX_RING:
                    stack.append((nxt, mask | 1 << nxt, path + (nxt,)))
    return cycles


def _ring_candidates(mol: Molecule) -> list[int]:
    """Atoms left after repeatedly removing atoms with one neighbour (side chains)."""
    degree = [len(a.neighbors) for a in mol.atoms]
    leaves = [i for i, d in enumerate(degree) if d <= 1]
    removed = set()
    while leaves:
        i = leaves.pop()
        if i in removed:
            continue
        removed.add(i)
        for j in mol.atoms[i].neighbors:
            if j not in removed:
                degree[j] -= 1
                if degree[j] <= 1:
                    leaves.append(j)
    return [i for i in range(len(mol.atoms)) if i not in removed]


def _perceive(mol: Molecule) -> None:
    for b in mol.bonds:
        mol.atoms[b.begin].neighbors.append(b.end)
        mol.atoms[b.end].neighbors.append(b.begin)
    for i, atom in enumerate(mol.atoms):
        used = sum(b.order for b in mol.atom_bonds[i])
        atom.num_h = atom.bracket_h if atom.bracket_h is not None else max(
            0, _valence(atom) - used)
    cycles = _simple_cycles(mol)
    for cycle in cycles:
        for a, b in _ring_pairs(cycle):
            mol.atoms[a].in_ring = True
            mol.bond_between(a, b).in_ring = True
    for cycle in cycles:
        if len(cycle) <= MAX_AROMATIC_RING and _is_aromatic(mol, cycle):
            for a, b in _ring_pairs(cycle):
                mol.atoms[a].aromatic = True
                mol.bond_between(a, b).aromatic = True
    for i, atom in enumerate(mol.atoms):
        atom.hybridization = _hybridization(mol, i)
    for bond in mol.bonds:
        bond.conjugated = _conjugated(mol, bond)


def _bonds_of(mol: Molecule, i: int) -> list[Bond]:
    return mol.atom_bonds[i]


def _has_lone_pair(mol: Molecule, i: int) -> bool:
    atom = mol.atoms[i]
    if any(b.order > 1 for b in _bonds_of(mol, i)):
        return False
    if atom.element in LONE_PAIR_ELEMENTS and atom.charge <= 0:
        return True
    return atom.element == "C" and atom.charge < 0


def _pi_electrons(mol: Molecule, i: int, ring: set[int]) -> int | None:
    """Electrons atom ``i`` gives to the ring's pi system, or None if it cannot take part."""
    ring_double = exo_heteroatom = False
    for j in mol.atoms[i].neighbors:
        bond = mol.bond_between(i, j)
        if bond.order == 3:
            return None
        if bond.order == 2:
            if j in ring:
                ring_double = True
            elif mol.atoms[j].element in LONE_PAIR_ELEMENTS:
                exo_heteroatom = True
            else:
                return None
    if ring_double:
        return 1
    if exo_heteroatom:
        return 0
    return 2 if _has_lone_pair(mol, i) else None


def _ring_pairs(cycle: list[int]) -> list[tuple[int, int]]:
    return list(zip(cycle, cycle[1:] + cycle[:1], strict=True))


def _is_aromatic(mol: Molecule, cycle: list[int]) -> bool:
    ring = set(cycle)
    electrons = [_pi_electrons(mol, i, ring) for i in cycle]
    if None in electrons:
        return False
    doubles = sum(1 for a, b in _ring_pairs(cycle) if mol.bond_between(a, b).order == 2)
    if electrons.count(1) != 2 * doubles:  # a double bond is a chord, not along this cycle
        return False
    return sum(electrons) % 4 == 2


def _hybridization(mol: Molecule, i: int) -> int:
    atom = mol.atoms[i]
    if atom.aromatic:
        return SP2
    orders = [b.order for b in _bonds_of(mol, i)]
    if 3 in orders or orders.count(2) >= 2:
        return SP
    if 2 in orders:
        return SP2
    if _has_lone_pair(mol, i) and any(_is_unsaturated(mol, j) for j in atom.neighbors):
        return SP2
    return SP3


def _is_unsaturated(mol: Molecule, i: int) -> bool:
    return mol.atoms[i].aromatic or any(b.order > 1 for b in _bonds_of(mol, i))


def _conjugated(mol: Molecule, bond: Bond) -> bool:
    if bond.aromatic:
        return True
    a, b = bond.begin, bond.end
    if bond.order > 1:
        for x, other in ((a, b), (b, a)):
            for j in mol.atoms[x].neighbors:
                if j != other and (_is_unsaturated(mol, j) or _has_lone_pair(mol, j)):
                    return True
        return False
    ua, ub = _is_unsaturated(mol, a), _is_unsaturated(mol, b)
    return (ua and (ub or _has_lone_pair(mol, b))) or (ub and _has_lone_pair(mol, a))
