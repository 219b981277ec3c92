"""Tools for building the course (not part of the package learners import)."""
