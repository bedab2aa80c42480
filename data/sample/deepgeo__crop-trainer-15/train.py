import argparse
import random

import numpy as np
import torch
from torch.utils.data import DataLoader

from data import ScanDataset

parser = argparse.ArgumentParser()
parser.add_argument("--workers", type=int, default=8)
parser.add_argument("--batch-size", type=int, default=32)
parser.add_argument("--seed", type=int, default=0)
args = parser.parse_args()


def seed_worker(worker_id):
    info = torch.utils.data.get_worker_info()
    info.dataset.rng = np.random.default_rng(info.seed)


def main():
    torch.manual_seed(args.seed)
    dataset = ScanDataset([])
    loader = DataLoader(dataset, batch_size=args.batch_size, shuffle=True, num_workers=args.workers, worker_init_fn=seed_worker)
    for epoch in range(10):
        for batch in loader:
            pass


if __name__ == "__main__":
    main()
