import numpy as np
from torch.utils.data import Dataset


class ScanDataset(Dataset):
    def __init__(self, signals, sigma=0.05, seed=0):
        self.signals = signals
        self.sigma = sigma
        self.rng = np.random.default_rng(seed)

    def __len__(self):
        return len(self.signals)

    def __getitem__(self, i):
        x = self.signals[i]
        return x + self.rng.normal(0, self.sigma, size=x.shape)
