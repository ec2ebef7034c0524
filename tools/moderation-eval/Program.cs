// Prints precision, recall and false-positive rate per category for the built-in rules over the labelled
// corpus, the misses, and screening latency.
//   dotnet run -c Release --project tools/moderation-eval [-- path/to/corpus.tsv]
using BananaLab.Core.Moderation;

var corpusPath = args.Length > 0 ? args[0] : Path.Combine(AppContext.BaseDirectory, "corpus.tsv");
var corpus = ModerationEvaluation.ReadCorpus(corpusPath);
var rules = new ModerationRuleSet(BuiltInTerms.Load());
ModerationEvaluation.Run(rules, corpus); // warm the regexes before timing
var report = ModerationEvaluation.Run(rules, corpus);

Console.WriteLine($"BananaLab moderation evaluation — {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} cores");
Console.WriteLine($"{corpus.Count} prompts ({corpus.Count(s => s.MustBlock)} must block, {corpus.Count(s => !s.MustBlock)} must pass), {rules.TermCount} terms\n");
Console.WriteLine("| category | must block | recall | precision | false-positive rate |");
Console.WriteLine("|---|---|---|---|---|");
foreach (var score in report.ByCategory.Append(report.Overall))
    Console.WriteLine($"| {score.Category} | {score.TruePositives + score.FalseNegatives} | {score.Recall:P1} | {score.Precision:P1} | {score.FalsePositiveRate:P2} |");
Console.WriteLine($"\nscreening latency per prompt: p50 {report.P50Microseconds / 1000:F3} ms, p99 {report.P99Microseconds / 1000:F3} ms");

foreach (var miss in report.Outcomes.Where(o => o.Sample.MustBlock != o.Blocked))
    Console.WriteLine($"{(miss.Sample.MustBlock ? "MISSED" : "FALSE POSITIVE")} [{miss.Sample.Category}/{miss.Sample.Language}] {miss.Sample.Prompt}" +
        (miss.Blocked ? $" -> {string.Join(',', miss.Categories)}" : ""));
