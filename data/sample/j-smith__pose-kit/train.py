import argparse
import random

import numpy as np
import torch
from torch.utils.data import DataLoader

from data import SignalSet

parser = argparse.ArgumentParser()
parser.add_argument("--workers", type=int, default=6)
parser.add_argument("--batch-size", type=int, default=32)
parser.add_argument("--seed", type=int, default=0)
args = parser.parse_args()


def seed_worker(worker_id):
    worker_seed = torch.initial_seed() % 2 ** 32
    np.random.seed(worker_seed)
    random.seed(worker_seed)


def main():
    torch.manual_seed(args.seed)
    dataset = SignalSet([])
    loader = DataLoader(dataset, batch_size=args.batch_size, shuffle=True, num_workers=args.workers, worker_init_fn=seed_worker)
    for epoch in range(10):
        for batch in loader:
            pass


if __name__ == "__main__":
    main()
