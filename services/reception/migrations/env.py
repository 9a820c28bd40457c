from kit.migrations import run_env
from reception.models import Base

run_env(Base.metadata)
