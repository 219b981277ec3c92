"""pytest loads this for every test path, notebooks/ included: nbval's comparison of plotly figures by sight."""
pytest_plugins = ["nbval_figures"]  # tests/ is on pytest's pythonpath (pyproject.toml)
