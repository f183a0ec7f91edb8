"""The scenario's tests live in one directory per step of molecule.yml's test_sequence (converged/, drills/,
rotated/, upgraded/); their shared helpers are in scenario.py here."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
