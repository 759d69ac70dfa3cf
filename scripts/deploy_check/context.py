"""What the run was started with (set once by __main__)."""
import os

ROOT = ""      # the project folder whose deployment files are checked
BIN = ""       # the stampede binary
STATIC = False # --static: no command is started
NS = ""        # prefix of the network namespaces made here (check-deploy.sh's trap removes them)


def rel(path):
    return os.path.relpath(path, ROOT)
