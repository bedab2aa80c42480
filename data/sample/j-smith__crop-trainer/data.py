import numpy as np
from torch.utils.data import Dataset


class PatchSet(Dataset):
    def __init__(self, images, size=32):
        self.images = images
        self.size = size

    def __len__(self):
        return len(self.images)

    def __getitem__(self, index):
        img = self.images[index]
        top = np.random.randint(0, img.shape[0] - self.size)
        left = np.random.randint(0, img.shape[1] - self.size)
        return img[top:top + self.size, left:left + self.size]
