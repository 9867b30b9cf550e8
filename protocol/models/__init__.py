from .cases import *  # noqa: F403
