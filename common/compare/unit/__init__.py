"""One subject x unit (fold, seed): staged training, its epoch loop and state, drift and evaluation."""
