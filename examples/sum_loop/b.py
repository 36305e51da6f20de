# Optimized approach: a generator fed to the built-in sum.
return sum(value for value in readings if value > 0.5)
