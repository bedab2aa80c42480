import numpy as np


def simulate(steps=1000):
    return np.cumsum(np.random.randn(steps))


if __name__ == "__main__":
    print(simulate()[-1])
