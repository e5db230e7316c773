using System.Collections.Immutable;
using System.Reflection;
using System.Text.RegularExpressions;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Wavhaven.Payments.Docs.Tests.Readme;

namespace Wavhaven.Payments.Docs.Tests;

/// <summary>
/// Every <c>```csharp</c> block of the README compiles against the packages: a renamed type, a changed
/// signature or a removed option breaks this test before it misleads a reader. A block may mix statements and
/// types as a Program.cs does: its types are compiled as they are, its statements as the body of an async
/// method of a class deriving from <see cref="ReadmeGlobals"/> (the variables a sample may use undeclared),
/// with the app types of <c>ReadmeStubs.cs</c> in scope. A block right after
/// <c>&lt;!-- README test: not compiled, … --&gt;</c> is left out, with its reason.
/// </summary>
public partial class ReadmeSamplesTests
{
    private static readonly string[] Usings =
    [
        "System", "System.Collections.Generic", "System.Linq", "System.Threading", "System.Threading.Tasks",
        "Microsoft.AspNetCore.Builder", "Microsoft.AspNetCore.Http", "Microsoft.AspNetCore.Routing",
        "Microsoft.Extensions.Configuration", "Microsoft.Extensions.DependencyInjection", "Microsoft.EntityFrameworkCore",
        "Wavhaven.Payments", "Wavhaven.Payments.Catalog", "Wavhaven.Payments.Checkout", "Wavhaven.Payments.Customers",
        "Wavhaven.Payments.Fulfillment", "Wavhaven.Payments.Portal", "Wavhaven.Payments.Subscriptions",
        "Wavhaven.Payments.Testing", "Wavhaven.Payments.Webhooks", "Wavhaven.Payments.Docs.Tests.Readme",
    ];

    private static readonly Lazy<ImmutableArray<MetadataReference>> References = new(() =>
    {
        // Everything the test runs on: the shared frameworks, the packages and the stubs.
        _ = typeof(Wavhaven.Payments.Testing.StripeEmulator);
        _ = typeof(Microsoft.EntityFrameworkCore.StripePaymentsModelBuilderExtensions);
        _ = typeof(Microsoft.Extensions.DependencyInjection.NpgsqlServiceCollectionExtensions);
        var paths = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator)
            .Concat(AppDomain.CurrentDomain.GetAssemblies().Where(a => !a.IsDynamic && a.Location.Length > 0).Select(a => a.Location))
            .Concat(Directory.GetFiles(AppContext.BaseDirectory, "*.dll"))
            .DistinctBy(Path.GetFileName, StringComparer.OrdinalIgnoreCase);
        return [.. paths.Select(path => (MetadataReference)MetadataReference.CreateFromFile(path))];
    });

    public static TheoryData<int, string> Samples()
    {
        var data = new TheoryData<int, string>();
        foreach (var sample in ReadSamples().Where(sample => sample.SkipReason is null))
        {
            data.Add(sample.Line, sample.Code);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Samples))]
    public void ReadmeSample_Compiles(int line, string code)
    {
        var parsed = (Microsoft.CodeAnalysis.CSharp.Syntax.CompilationUnitSyntax)CSharpSyntaxTree.ParseText(code, new CSharpParseOptions(LanguageVersion.Latest)).GetRoot();
        static bool IsType(Microsoft.CodeAnalysis.CSharp.Syntax.MemberDeclarationSyntax member) =>
            member is Microsoft.CodeAnalysis.CSharp.Syntax.BaseTypeDeclarationSyntax or Microsoft.CodeAnalysis.CSharp.Syntax.DelegateDeclarationSyntax;

        // Top-level statements (and anything that is not a type) become the method body.
        var statements = string.Concat(parsed.Members.Where(member => !IsType(member)).Select(member => member.ToFullString()));
        var types = string.Concat(parsed.Members.Where(IsType).Select(member => member.ToFullString()));
        var source = $$"""
            {{string.Concat(Usings.Select(name => $"using {name};\n"))}}
            namespace ReadmeSample;

            {{types}}

            internal sealed class Sample : ReadmeGlobals
            {
                public async Task<object?> RunAsync()
                {
            {{statements}}
                    return null;
                }
            }
            """;
        var tree = CSharpSyntaxTree.ParseText(source, new CSharpParseOptions(LanguageVersion.Latest), path: $"README.md:{line}");
        var compilation = CSharpCompilation.Create(
            "ReadmeSample" + line,
            [tree],
            References.Value,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable));

        var errors = compilation.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error).Select(d => d.ToString()).ToList();

        errors.Should().BeEmpty("the README's sample at line {0} must compile:\n{1}", line, code);
    }

    [Fact]
    public void Readme_HasSamples_AndSaysWhyItSkipsAny()
    {
        var samples = ReadSamples();

        samples.Should().HaveCountGreaterThan(8);
        samples.Where(sample => sample.SkipReason is not null).Should().OnlyContain(sample => sample.SkipReason!.Length > 10);
    }

    private static List<(int Line, string Code, string? SkipReason)> ReadSamples()
    {
        var text = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "README.md"));
        var samples = new List<(int, string, string?)>();
        foreach (Match match in CodeBlock().Matches(text))
        {
            var line = text[..match.Index].Count(c => c == '\n') + 1;
            var skip = SkipMarker().Match(text[..match.Index]);
            samples.Add((line, match.Groups["code"].Value, skip.Success ? skip.Groups["reason"].Value : null));
        }

        return samples;
    }

    [GeneratedRegex("^```csharp\\n(?<code>.*?)^```", RegexOptions.Multiline | RegexOptions.Singleline)]
    private static partial Regex CodeBlock();

    [GeneratedRegex("<!-- README test: not compiled, (?<reason>[^>]+?) -->\\s*\\z")]
    private static partial Regex SkipMarker();
}
