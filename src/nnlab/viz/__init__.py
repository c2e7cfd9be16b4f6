"""Pictures of what a network learned: figure functions of arrays (figures.py), and the run's
figures and HTML report (render.py, report.py)."""
