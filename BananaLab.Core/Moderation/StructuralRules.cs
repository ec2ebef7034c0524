using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace BananaLab.Core.Moderation;

/// <summary>
/// What a term list cannot express, in the ten languages BananaLab screens (en, de, es, fr, it, pt, nl, pl, ru, ja):
/// <list type="bullet">
/// <item>a stated age under 18 ("15 year old", "14yo", "12 y/o", "15-jährige", "de 13 años", "14歳"): a minor, the
///   <see cref="ModerationRuleSet.Minors"/> context, which blocks together with anything sexual or suggestive;</item>
/// <item>phrases for child sexual abuse material, in plain words as well as acronyms: <c>minors_sexual</c>;</item>
/// <item>a call to exterminate a group, or a group called vermin, parasites or subhuman: <c>hate</c>;</item>
/// <item>a named atrocity with words that glorify or deny it, unless the prompt is about remembering or teaching it: <c>hate</c>;</item>
/// <item>first-person intent to self-harm ("I want to kill myself", "ich will sterben"): <c>self_harm</c>.</item>
/// </list>
/// Each finding is a (category, rule id) pair; rule ids start with <c>structure:</c>. Patterns run on the text folded
/// like the term lists (<see cref="TextNormalizer.Variants"/>), except ages, which read digits before leetspeak decoding.
/// </summary>
public static class StructuralRules
{
    private const RegexOptions Options = RegexOptions.Compiled | RegexOptions.CultureInvariant;

    /// <summary>Number words up to seventeen (English), for "twelve year old".</summary>
    private static readonly string[] NumberWords =
        ["one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve", "thirteen", "fourteen",
         "fifteen", "sixteen", "seventeen"];

    /// <summary>A number, then a language's way of saying "years old"; the number is group 1.</summary>
    private static readonly Regex Age = new(
        @"(?<![\p{L}\p{N}])(\d{1,2})\s*(?:-\s*)?(?:" +
        @"years?\s*-?\s*old|yrs?\s*-?\s*old|y\s*/\s*o|y\.o\.?|yo|yr?s?(?=\s+(?:girl|boy|kid|child))" +         // en
        @"|jahre?\s+alt|-?\s*jahrig\w*|-?\s*jaehrig\w*" +                                                          // de
        @"|anos?(?!\s+(?:ago|atras|despues|later))|anni|-?\s*enne|ans" +                                           // es, pt, it, fr
        @"|jaar(?:\s+oud)?|-?\s*jarige?" +                                                                          // nl
        @"|lat(?:ek|ka)?|-?\s*letni\w*" +                                                                           // pl
        @"|лет(?:н\w*)?|-?\s*летн\w*|год(?:а|ик)?" +                                                               // ru
        @")(?![\p{L}\p{N}])|(?<![\p{N}])(\d{1,2})\s*(?:歳|才)",
        Options);

    private static readonly Regex AgeWords = new(
        $@"(?<![\p{{L}}])({string.Join('|', NumberWords)})[\s-]+years?[\s-]+old(?![\p{{L}}])|(?<![\p{{L}}\p{{N}}])(?:aged|age)\s+(\d{{1,2}})(?![\p{{N}}])",
        Options);

    /// <summary>Child sexual abuse material, in words; matched on folded text.</summary>
    private static readonly Regex AbuseMaterial = new(Words(
        @"child(?:ren)?\s+(?:sexual\s+)?abuse\s+(?:material|images?|content|videos?|photos?|pictures?)",
        @"sexual\s+abuse\s+(?:of|on)\s+(?:a\s+)?(?:child|children|kids?|minors?|toddlers?|infants?)",
        @"sexual(?:ly)?\s+(?:abused|abusing|exploited|exploiting)\s+(?:a\s+)?(?:child|children|kids?|minors?|toddlers?|infants?)",
        @"child(?:ren)?\s+(?:sex(?:ual)?\s+)?exploitation\s+(?:material|images?|content)",
        @"(?:child|kiddie|kiddy|underage|preteen|minor|toddler|infant)\s*-?\s*porn\w*", @"csam", @"pedo(?:phile)?\s+(?:material|content|images?|pics?|videos?)",
        @"kinderporn\w*", @"kinderpornografie\w*", @"sexuelle[rn]?\s+missbrauch\w*\s+(?:von\s+)?kinder\w*", @"missbrauchsdarstellung\w*",
        @"pornografia\s+infantil", @"abuso\s+sexual\s+infantil", @"material\s+de\s+abuso\s+sexual\s+infantil",
        @"pedopornografi\w*", @"pedopornographi\w*", @"pornographie\s+infantile", @"abus\s+sexuels?\s+sur\s+(?:des\s+)?(?:enfants?|mineurs?)",
        @"pornografia\s+minorile", @"abuso\s+sessuale\s+su\s+minori", @"pedopornografia",
        @"seksueel\s+kindermisbruik", @"kindermisbruik\w*",
        @"pornografia\s+dziecieca", @"wykorzystywanie\s+seksualne\s+dzieci",
        // Russian as the term lists fold it (Cyrillic look-alikes to Latin): детская порнография, сексуальное насилие над детьми
        Fold("детская порнография"), Fold("детской порнографии"), Fold("сексуальное насилие над детьми")) + FoldScript("|児童ポルノ|児童性的虐待|児童虐待画像|児童の性的搾取"),
        Options);

    private const string EnGroups = @"jews|jewish\s+people|muslims|christians|blacks|black\s+people|whites|white\s+people|asians|mexicans|latinos|" +
        @"immigrants|refugees|migrants|gays|gay\s+people|lesbians|trans\s+people|transgender\s+people|roma|gypsies|arabs|africans|indians|" +
        @"chinese|hindus|sikhs|the\s+disabled|disabled\s+people|homeless\s+people|catholics|palestinians|israelis|ukrainians|russians|kurds";

    /// <summary>Calls to exterminate a group, and a group called vermin (dehumanisation), in each language; folded text.</summary>
    private static readonly Regex Dehumanisation = new(Words(
        $@"(?:exterminate|eradicate|wipe\s+out|kill|gas|purge|cleanse|eliminate|get\s+rid\s+of|hang|slaughter|death\s+to)\s+(?:all\s+(?:the\s+)?|every\s+|the\s+)?(?:{EnGroups})",
        $@"(?:{EnGroups})\s+(?:are|=|as)\s+(?:just\s+|nothing\s+but\s+|like\s+)?(?:vermin|rats|cockroaches|roaches|parasites|insects|lice|animals|subhuman|apes|monkeys|a\s+disease|a\s+plague|filth|a\s+virus|pests)",
        $@"(?:{EnGroups})\s+as\s+(?:rats|cockroaches|vermin|parasites|insects|apes|monkeys|subhumans?)",
        $@"final\s+solution\s+(?:for|to)\s+(?:the\s+)?(?:{EnGroups})", @"subhuman\s+(?:race|jews|blacks|muslims|immigrants|gypsies)",
        @"(?:juden|muslime|auslander|auslaender|fluchtlinge|fluechtlinge|schwule|zigeuner|schwarze)\s+(?:vergasen|ausrotten|vernichten|toten|sind\s+(?:ungeziefer|ratten|parasiten|kakerlaken|untermenschen|tiere))",
        @"(?:ausrotten|vernichten|vergast)\s+(?:alle\s+)?(?:juden|muslime|auslander|fluchtlinge|schwule|zigeuner)",
        @"(?:exterminar|eliminar|matar\s+a\s+todos\s+los)\s+(?:a\s+)?(?:los\s+)?(?:judios|musulmanes|inmigrantes|negros|gitanos|gays|homosexuales|judeus|muculmanos|imigrantes)",
        @"(?:los\s+|os\s+)?(?:judios|musulmanes|inmigrantes|negros|gitanos|judeus|muculmanos|imigrantes)\s+(?:son|sao)\s+(?:alimanas|ratas|ratos|cucarachas|baratas|parasitos|plaga|praga|animales|animais|infrahumanos|sub\s*humanos)",
        @"(?:exterminer|eliminer|tuer\s+tous\s+les|gazer)\s+(?:les\s+)?(?:juifs|musulmans|immigres|noirs|arabes|gitans|homosexuels)",
        @"(?:les\s+)?(?:juifs|musulmans|immigres|noirs|arabes|gitans)\s+sont\s+(?:de\s+la\s+|des\s+)?(?:vermine|rats|cafards|parasites|animaux|sous\s*hommes)",
        @"(?:sterminare|eliminare|gasare|uccidere\s+tutti\s+gli)\s+(?:gli\s+|i\s+)?(?:ebrei|musulmani|immigrati|neri|zingari|rom|gay|froci)",
        @"(?:gli\s+|i\s+)?(?:ebrei|musulmani|immigrati|neri|zingari)\s+sono\s+(?:dei\s+)?(?:parassiti|ratti|scarafaggi|vermi|animali|subumani)",
        @"(?:uitroeien|vergassen|afmaken)\s+(?:alle\s+|de\s+)?(?:joden|moslims|immigranten|vluchtelingen|zwarten|homo\s*s)",
        @"(?:joden|moslims|immigranten|vluchtelingen|zwarten)\s+(?:uitroeien|vergassen|zijn\s+(?:ongedierte|ratten|kakkerlakken|parasieten|beesten|untermenschen))",
        @"(?:wytepic|wymordowac|zagazowac|eksterminowac)\s+(?:wszystkich\s+)?(?:zydow|muzulmanow|imigrantow|uchodzcow|czarnych|cyganow|gejow)",
        @"(?:zydzi|muzulmanie|imigranci|uchodzcy|cyganie)\s+to\s+(?:robactwo|szczury|karaluchy|pasozyty|zwierzeta|podludzie)",
        Fold("уничтожить всех евреев"), Fold("уничтожить евреев"), Fold("истребить евреев"), Fold("истребить мусульман"), Fold("истребить мигрантов"),
        Fold("евреи это паразиты"), Fold("мигранты это паразиты"), Fold("мигранты это крысы"), Fold("евреи это крысы"), Fold("цыгане это паразиты")) + FoldScript("|(?:ユダヤ人|イスラム教徒|移民|難民|黒人|朝鮮人|中国人)(?:を|は)(?:絶滅|皆殺し|根絶|駆除|抹殺)|(?:ユダヤ人|移民|難民|黒人|朝鮮人|中国人)は(?:害虫|ゴキブリ|ネズミ|寄生虫|人間以下)"),
        Options);

    private static readonly Regex Atrocity = new(Words(
        @"holocaust", @"holokaust", @"holocausto", @"olocausto", @"holocauste", @"shoah", @"auschwitz", @"treblinka", @"death\s+camps?",
        @"gas\s+chambers?", @"gaskammern?", @"camere\s+a\s+gas", @"camaras\s+de\s+gas", @"chambres\s+a\s+gaz", @"komory\s+gazowe",
        @"rwandan\s+genocide", @"srebrenica", @"nanjing\s+massacre", @"nanking\s+massacre", @"rape\s+of\s+nanking", @"armenian\s+genocide",
        @"holodomor", @"killing\s+fields", @"khmer\s+rouge", @"9\s*/?\s*11\s+attacks?", @"columbine", @"christchurch\s+(?:shooting|mosque|attack)",
        @"utoya", @"oklahoma\s+city\s+bombing", @"isis\s+beheadings?", @"genocide", @"genozid", @"volkermord", @"voelkermord", @"genocidio",
        @"genocidium", @"ludobojstwo", @"zaglada\s+zydow", Fold("холокост"), Fold("геноцид"), Fold("освенцим")) + FoldScript("|ホロコースト|アウシュビッツ|アウシュヴィッツ|南京大虐殺|大虐殺|ジェノサイド"),
        Options);

    private static readonly Regex Glorification = new(Words(
        @"glorif\w*", @"glorious", @"celebrat\w*", @"heroic", @"heroes\s+of", @"hero\s+(?:of|who\s+(?:did|carried))", @"triumph\w*", @"proud\s+of",
        @"praise\w*", @"praising", @"tribute\s+to\s+the\s+(?:killers|perpetrators|shooters?|gunman|attackers|ss|nazis)", @"was\s+a\s+good\s+thing",
        @"did\s+nothing\s+wrong", @"should\s+happen\s+again", @"do\s+it\s+again", @"finish\s+the\s+job", @"never\s+happened", @"is\s+a\s+(?:hoax|lie|myth)",
        @"was\s+a\s+(?:hoax|lie|myth)", @"hoax", @"fake\s+history", @"propaganda\s+poster\s+(?:praising|celebrating)", @"in\s+honou?r\s+of\s+the\s+(?:killers|perpetrators|shooters?)",
        @"verherrlich\w*", @"glorreich\w*", @"feier\w*", @"helden\w*", @"nie\s+passiert", @"luge", @"luege",
        @"glorific\w*", @"celebr\w*", @"heroic\w*", @"heroes", @"heroe", @"nunca\s+(?:ocurrio|paso|aconteceu)", @"mentira",
        @"glorifi\w*", @"heros", @"n\s+a\s+jamais\s+existe", @"mensonge", @"gloire",
        @"esalt\w*", @"eroi", @"eroic\w*", @"mai\s+successo", @"bugia",
        @"verheerlijk\w*", @"vieren", @"nooit\s+gebeurd", @"leugen",
        @"gloryfik\w*", @"swietow\w*", @"bohater\w*", @"nigdy\s+sie\s+nie\s+wydarzyl\w*", @"klamstwo",
        Fold("прославлен") + @"\w*", Fold("прославля") + @"\w*", Fold("герои"), Fold("героическ") + @"\w*", Fold("праздну") + @"\w*", Fold("никогда не было"), Fold("ложь")) + FoldScript("|称賛|賛美|美化|英雄|祝う|祝福|なかった|捏造"),
        Options);

    /// <summary>Remembering, teaching or documenting an atrocity: glorification words then mean something else ("heroes who liberated").</summary>
    private static readonly Regex Remembrance = new(Words(
        @"memorial\w*", @"remembranc\w*", @"remember\w*", @"commemorat\w*", @"museum\w*", @"history", @"historical", @"lesson\w*", @"documentar\w*",
        @"survivors?", @"victims?", @"educat\w*", @"liberat\w*", @"rescuers?", @"righteous", @"resistance", @"never\s+again", @"mourn\w*",
        @"gedenk\w*", @"mahnmal", @"erinner\w*", @"geschicht\w*", @"opfer", @"uberlebende\w*", @"befrei\w*",
        @"memori\w*", @"museo", @"historia", @"victimas?", @"vitimas?", @"sobrevivientes?", @"sobreviventes?", @"liberac\w*", @"recuerdo", @"homenaje\s+a\s+las\s+victimas",
        @"memoire", @"musee", @"histoire", @"survivants?", @"liberation", @"souvenir",
        @"memoria", @"storia", @"vittime", @"sopravvissut\w*", @"liberazione",
        @"herdenk\w*", @"geschiedenis\w*", @"slachtoffers?", @"overlevenden?", @"bevrijd\w*",
        @"pamiec\w*", @"muzeum", @"historii", @"historia", @"ofiar\w*", @"ocalal\w*", @"wyzwol\w*",
        Fold("память"), Fold("памяти"), Fold("мемориал"), Fold("музей"), Fold("истори") + @"\w*", Fold("жертв") + @"\w*", Fold("освобожден") + @"\w*") + FoldScript("|記念|追悼|博物館|歴史|犠牲者|生存者|解放|授業|教育"),
        Options);

    /// <summary>First-person intent to self-harm; folded text.</summary>
    private static readonly Regex SelfHarmIntent = new(Words(
        @"i\s*(?:'?m|am)?\s*(?:want|wanna|need|going|gonna|plan(?:ning)?|about|ready|decided|will|would\s+like)\s+(?:to\s+)?(?:die|end\s+(?:it|it\s+all|my\s+life|myself)|kill\s+myself|hurt\s+myself|cut\s+myself|disappear\s+forever)",
        @"(?:kill|hurt|cut|hang|drown|starve|burn)\s+myself(?!\s+laugh)", @"end\s+my\s+(?:own\s+)?life", @"take\s+my\s+(?:own\s+)?life", @"slit\s+my\s+wrists?",
        @"my\s+suicide(?:\s+note)?", @"i\s+(?:do\s+not|don'?t|dont)\s+want\s+to\s+(?:live|be\s+alive|exist)", @"how\s+(?:to|do\s+i)\s+kill\s+myself",
        @"(?:best|easiest|painless)\s+way\s+to\s+(?:die|kill\s+myself|end\s+it)", @"nobody\s+would\s+miss\s+me", @"goodbye\s+cruel\s+world",
        @"ich\s+(?:will|mochte|moechte)\s+(?:sterben|nicht\s+mehr\s+leben|mich\s+umbringen|mich\s+toten|mich\s+ritzen)", @"mich\s+(?:umbringen|ritzen|toten)", @"mir\s+das\s+leben\s+nehmen",
        @"quiero\s+(?:morir(?:me)?|matarme|suicidarme|cortarme|desaparecer)", @"voy\s+a\s+(?:matarme|suicidarme)", @"no\s+quiero\s+vivir",
        @"je\s+veux\s+(?:mourir|me\s+tuer|me\s+suicider|disparaitre)", @"me\s+(?:tuer|suicider|scarifier|taillader)", @"en\s+finir\s+avec\s+la\s+vie",
        @"voglio\s+(?:morire|uccidermi|ammazzarmi|tagliarmi|suicidarmi)", @"non\s+voglio\s+piu\s+vivere",
        @"quero\s+(?:morrer|me\s+matar|me\s+cortar|sumir)", @"vou\s+me\s+matar", @"nao\s+quero\s+mais\s+viver",
        @"ik\s+wil\s+(?:dood|sterven|mezelf\s+(?:doden|snijden|van\s+kant\s+maken))", @"mezelf\s+van\s+kant\s+maken",
        @"chce\s+(?:umrzec|sie\s+zabic|sie\s+pociac)", @"zabije\s+sie", @"nie\s+chce\s+(?:juz\s+)?zyc",
        Fold("хочу умереть"), Fold("хочу убить себя"), Fold("убью себя"), Fold("покончу с собой"), Fold("не хочу жить"), Fold("порежу себя")) + FoldScript("|死にたい|自殺したい|消えてしまいたい|手首を切りたい|命を絶ちたい|生きていたくない"),
        Options);

    /// <summary>The findings for <paramref name="text"/>, given its folded <paramref name="variants"/>: (category, rule id) pairs.</summary>
    public static IEnumerable<(string Category, string Rule)> Find(string text, IReadOnlyList<string> variants)
    {
        if (MinorAge(text) is { } age) yield return (ModerationRuleSet.Minors, $"structure:age-{age}");
        var folded = string.Join('\n', variants);
        if (AbuseMaterial.Match(folded) is { Success: true } abuse) yield return (ModerationRuleSet.MinorsSexual, $"structure:abuse-material:{Short(abuse.Value)}");
        if (Dehumanisation.Match(folded) is { Success: true } hate) yield return ("hate", $"structure:dehumanisation:{Short(hate.Value)}");
        if (Atrocity.Match(folded) is { Success: true } atrocity && Glorification.Match(folded) is { Success: true } glory && !Remembrance.IsMatch(folded))
            yield return ("hate", $"structure:atrocity-glorified:{Short(atrocity.Value)}+{Short(glory.Value)}");
        if (SelfHarmIntent.Match(folded) is { Success: true } intent) yield return ("self_harm", $"structure:self-harm-intent:{Short(intent.Value)}");
    }

    /// <summary>The first stated age under 18 in <paramref name="text"/>, or null. Read with digits as written (before leetspeak decoding).</summary>
    public static int? MinorAge(string text)
    {
        text = WithoutMarks(text);
        foreach (Match match in Age.Matches(text))
        {
            var number = match.Groups[1].Success ? match.Groups[1].Value : match.Groups[2].Value;
            if (int.TryParse(number, CultureInfo.InvariantCulture, out var years) && years < 18) return years;
        }
        foreach (Match match in AgeWords.Matches(text))
        {
            if (match.Groups[1].Success) return Array.IndexOf(NumberWords, match.Groups[1].Value) + 1;
            if (int.TryParse(match.Groups[2].Value, CultureInfo.InvariantCulture, out var aged) && aged < 18) return aged;
        }
        return null;
    }

    /// <summary>NFKC, lower case, diacritics removed ("jährig" → "jahrig", "años" → "anos"); letters and digits otherwise as written.</summary>
    private static string WithoutMarks(string text)
    {
        var decomposed = text.Normalize(NormalizationForm.FormKC).ToLowerInvariant().Normalize(NormalizationForm.FormD);
        var builder = new StringBuilder(decomposed.Length);
        foreach (var c in decomposed)
            if (CharUnicodeInfo.GetUnicodeCategory(c) is not (UnicodeCategory.NonSpacingMark or UnicodeCategory.Format)) builder.Append(c);
        return builder.ToString().Normalize(NormalizationForm.FormC);
    }

    /// <summary>
    /// A pattern in a script without case (Japanese) folded as prompts are: compatibility forms, and combining marks removed
    /// (so a dakuten or handakuten kana matches its folded prompt text); the pattern's own syntax is left as it is.
    /// </summary>
    private static string FoldScript(string pattern)
    {
        var decomposed = pattern.Normalize(NormalizationForm.FormKC).Normalize(NormalizationForm.FormD);
        var builder = new StringBuilder(decomposed.Length);
        foreach (var c in decomposed)
            if (CharUnicodeInfo.GetUnicodeCategory(c) is not (UnicodeCategory.NonSpacingMark or UnicodeCategory.Format)) builder.Append(c);
        return builder.ToString();
    }

    /// <summary>Whole-word alternatives (letters or digits never touch a match on either side).</summary>
    private static string Words(params string[] alternatives) =>
        $@"(?<![\p{{L}}\p{{N}}])(?:{string.Join('|', alternatives)})(?![\p{{L}}\p{{N}}])";

    /// <summary>A phrase written in its own script, folded as prompts are (Cyrillic look-alikes become Latin), as a regex.</summary>
    private static string Fold(string phrase) => Regex.Escape(TextNormalizer.Term(phrase)).Replace("\\ ", "\\s+");

    private static string Short(string value) => Regex.Replace(value.Trim(), @"\s+", " ") is var s && s.Length > 40 ? s[..40] : s;
}
