import torch
from torch.utils.data import Dataset


class PointClouds(Dataset):
    def __init__(self, tensors):
        self.tensors = tensors

    def __len__(self):
        return len(self.tensors)

    def __getitem__(self, i):
        x = self.tensors[i]
        if torch.rand(1).item() < 0.5:
            x = torch.flip(x, dims=[-1])
        return x
