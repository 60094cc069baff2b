import shutil
from pathlib import Path

from pipeline.tables import main

SPECS = Path(__file__).resolve().parents[1] / "specs"


def test_tables_render_the_specs_values(tmp_path):
    assert main(["--specs", str(SPECS), "--out-dir", str(tmp_path)]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"table{i}.{e}" for i in (1, 2, 3) for e in ("md", "tex")]
    table3 = (tmp_path / "table3.md").read_text()
    assert "| boulderpush | 4096 | 0.003 | 0.03 | 1 |" in table3
    assert "| matrix_2x2 | 20 | 0.1 | 0.03 | 1 |" in table3
    assert "Clip coefficient $\\epsilon$ & 0.3, 1, 10 \\\\" in (tmp_path / "table1.tex").read_text()
    assert "| Entropy coefficient | 0.01 |" in (tmp_path / "table2.md").read_text()


def test_an_edited_spec_changes_the_table_and_a_bad_one_writes_nothing(tmp_path):
    specs = tmp_path / "specs"
    shutil.copytree(SPECS, specs)
    table3 = specs / "hyperparams/table3.yaml"
    table3.write_text(table3.read_text().replace("ppo_batch_size: 4096", "ppo_batch_size: 8192"))
    assert main(["--specs", str(specs), "--out-dir", str(tmp_path / "ok")]) == 0
    assert "| boulderpush | 8192 |" in (tmp_path / "ok/table3.md").read_text()

    table3.write_text(table3.read_text().replace("ppo_batch_size: 8192", "ppo_batch_size: lots"))
    assert main(["--specs", str(specs), "--out-dir", str(tmp_path / "bad")]) == 1
    assert not (tmp_path / "bad").exists()
