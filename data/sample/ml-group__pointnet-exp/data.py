import numpy as np
from torch.utils.data import Dataset


class FrameDataset(Dataset):
    def __init__(self, images, size=32):
        self.images = images
        self.size = size

    def __len__(self):
        return len(self.images)

    def __getitem__(self, index):
        frame = self.images[index]
        top = np.random.randint(0, frame.shape[0] - self.size)
        left = np.random.randint(0, frame.shape[1] - self.size)
        return frame[top:top + self.size, left:left + self.size]
