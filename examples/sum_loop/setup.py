# The real input both variants see: one million readings.
import random

random.seed(7)
readings = [random.random() for _ in range(1_000_000)]
