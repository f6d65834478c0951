import factory
from django.utils import timezone

from reglament.core.models import WorkerHeartbeat


class WorkerHeartbeatFactory(factory.django.DjangoModelFactory[WorkerHeartbeat]):
    class Meta:
        model = WorkerHeartbeat

    worker_id = factory.Sequence(lambda n: f"host:{1000 + n}")
    last_seen = factory.LazyFunction(timezone.now)
