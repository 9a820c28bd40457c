from kit.migrations import run_env
from referral.models import Base

run_env(Base.metadata)
