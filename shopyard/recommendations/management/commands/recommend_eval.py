"""Offline evaluation of the recommenders (docs/recommendations.md, "Evaluation").

    python manage.py recommend_eval                  # the demo's synthetic behaviour (seeded)
    python manage.py recommend_eval --csv log.csv    # an event log: user,item[,kind][,timestamp][,category]
    python manage.py recommend_eval --recorded       # the behaviour events this site recorded
"""

from django.core.management.base import BaseCommand, CommandError

from shopyard.recommendations import evaluation, services, synthetic


class Command(BaseCommand):
    help = "Time-split evaluation: hit-rate@10, recall@10 and coverage of popularity, co-occurrence and implicit."

    def add_arguments(self, parser):
        parser.add_argument("--csv", help="an event log as CSV (header: user,item[,kind][,timestamp][,category])")
        parser.add_argument("--recorded", action="store_true", help="evaluate the recorded behaviour events")
        parser.add_argument("--seed", type=int, default=7, help="seed of the synthetic log")
        parser.add_argument("--shoppers", type=int, default=600, help="shoppers in the synthetic log")
        parser.add_argument("--no-library", action="store_true", help="skip the implicit library's recommenders")

    def handle(self, *args, **options):
        if options["csv"]:
            try:
                events, categories = evaluation.read_csv(options["csv"])
            except (OSError, ValueError, UnicodeDecodeError) as exc:
                raise CommandError(f"cannot read {options['csv']}: {exc}") from exc
            title = options["csv"]
        elif options["recorded"]:
            events, categories = services.events_since(services.timezone.now() - services.WINDOW)
            title = "recorded behaviour"
        else:
            clusters, categories = synthetic.abstract_catalogue()
            events = synthetic.taste_log(clusters, shoppers=max(1, options["shoppers"]), seed=options["seed"])
            title = f"synthetic taste-cluster log (seed {options['seed']})"
        if not events:
            raise CommandError("no events to evaluate")
        result = evaluation.evaluate(events, categories=categories, with_library=not options["no_library"])
        self.stdout.write(evaluation.table(result, title))
