# Current approach: a Python-level loop.
total = 0.0
for value in readings:
    if value > 0.5:
        total += value
return total
