import pandas as pd

from pipeline.summary import final_table


def test_final_point_per_curve_and_missing_cells():
    rows = []
    for panel, title, samplers in ((0, "A", ("props", "on_policy")), (1, "B", ("on_policy", "props", "ma_props"))):
        for sampler in samplers:
            for step, mean in ((10, 0.1), (20, 0.5)):
                rows.append(
                    dict(
                        panel_index=panel,
                        panel=title.lower(),
                        panel_title=title,
                        sampler=sampler,
                        metric="success_rate",
                        step=step,
                        mean=mean,
                        ci_low=mean - 0.1,
                        ci_high=mean + 0.1,
                        n_seeds=5,
                    )
                )
    table = final_table(pd.DataFrame(rows), "success_rate")
    assert list(table.columns) == ["on_policy", "props", "ma_props"]
    assert table.loc["A"].tolist() == ["0.50 [0.40, 0.60]", "0.50 [0.40, 0.60]", "not run"]
    assert table.loc["B", "ma_props"] == "0.50 [0.40, 0.60]"
