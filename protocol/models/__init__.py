from .cases import *  # noqa: F403
from .documents import *  # noqa: F403
from .emergency import *  # noqa: F403
from .meetings import *  # noqa: F403
from .referrals import *  # noqa: F403
