import numpy as np
from torch.utils.data import Dataset


class CropDataset(Dataset):
    def __init__(self, rows, fraction=0.8):
        keep = np.random.permutation(len(rows))[: int(fraction * len(rows))]
        self.rows = [rows[k] for k in keep]

    def __len__(self):
        return len(self.rows)

    def __getitem__(self, i):
        return self.rows[i]
