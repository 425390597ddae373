"""Helpers shared by the tests (and the benchmarks): real data, real photographs, meeting screens, a real X screen."""
