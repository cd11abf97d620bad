"""The linear reference for transfer learning: scikit-learn's LogisticRegression with standardisation on the same
embeddings AudioNet trains on.

Usage (the Swift test runs it in the reference venv): python logistic_regression_reference.py DIR
DIR holds train_x.npy [N, D], train_y.npy [N], test_x.npy, test_y.npy; prints {"accuracy": …} as JSON.
"""
import json
import os
import sys

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

folder = sys.argv[1]
load = lambda name: np.load(os.path.join(folder, name))  # noqa: E731
model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
model.fit(load("train_x.npy"), load("train_y.npy").astype(int))
accuracy = float((model.predict(load("test_x.npy")) == load("test_y.npy").astype(int)).mean())
print(json.dumps({"accuracy": accuracy}))
