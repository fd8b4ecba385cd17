using System.Text.RegularExpressions;
using Mono.Cecil;
using Mono.Cecil.Cil;

namespace EventSubRelay.Tests;

/// <summary>
/// The feature folders (namespaces under <c>EventSubRelay</c>) use each other only as the README's "How it works"
/// allows, and the allowed uses have no cycle. Uses are read from the compiled assembly: signatures, fields,
/// locals and every type, method and field a method body touches.
/// </summary>
public sealed partial class ArchitectureTests
{
    [Fact]
    public void Folders_use_only_the_folders_the_readme_allows()
    {
        var allowed = AllowedUses();
        var actual = ActualUses();

        var unexpected = actual.Where(use => !allowed.Contains(use)).Select(use => $"{use.From} → {use.To}").Order().ToList();

        unexpected.Should().BeEmpty("a new dependency between folders must be added to the README's \"How it works\" first, and must not close a cycle");
    }

    [Fact]
    public void The_allowed_uses_have_no_cycle()
    {
        var allowed = AllowedUses();

        FindCycle(allowed).Should().BeNull();
    }

    [Fact]
    public void The_readme_allows_no_use_that_the_code_does_not_make()
    {
        var actual = ActualUses();

        AllowedUses().Where(use => !actual.Contains(use)).Select(use => $"{use.From} → {use.To}").Should().BeEmpty("the README should describe the code as it is");
    }

    /// <summary>The README's lines "- **Folder** uses A, B and C." (or "uses nothing").</summary>
    private static HashSet<(string From, string To)> AllowedUses()
    {
        var readme = Repository.ReadFile("README.md");
        var uses = new HashSet<(string, string)>();
        foreach (Match line in UsesLine().Matches(readme))
        {
            foreach (Match target in Folder().Matches(line.Groups["targets"].Value))
            {
                uses.Add((line.Groups["folder"].Value, target.Value));
            }
        }

        uses.Should().NotBeEmpty("the README's \"How it works\" lists which folder uses which");
        return uses;
    }

    private static HashSet<(string From, string To)> ActualUses()
    {
        using var assembly = AssemblyDefinition.ReadAssembly(typeof(Program).Assembly.Location);
        var uses = new HashSet<(string, string)>();
        foreach (var type in assembly.MainModule.GetTypes())
        {
            if (FolderOf(type) is not { } from)
            {
                continue;
            }

            foreach (var used in UsedTypes(type))
            {
                if (FolderOf(used) is { } to && to != from)
                {
                    uses.Add((from, to));
                }
            }
        }

        return uses;
    }

    private static IEnumerable<TypeReference> UsedTypes(TypeDefinition type)
    {
        if (type.BaseType is { } baseType)
        {
            yield return baseType;
        }

        foreach (var implemented in type.Interfaces)
        {
            yield return implemented.InterfaceType;
        }

        foreach (var field in type.Fields)
        {
            yield return field.FieldType;
        }

        foreach (var property in type.Properties)
        {
            yield return property.PropertyType;
        }

        foreach (var method in type.Methods)
        {
            yield return method.ReturnType;
            foreach (var parameter in method.Parameters)
            {
                yield return parameter.ParameterType;
            }

            if (!method.HasBody)
            {
                continue;
            }

            foreach (var local in method.Body.Variables)
            {
                yield return local.VariableType;
            }

            foreach (var instruction in method.Body.Instructions)
            {
                switch (instruction.Operand)
                {
                    case TypeReference operand:
                        yield return operand;
                        break;
                    case MethodReference operand:
                        yield return operand.DeclaringType;
                        yield return operand.ReturnType;
                        foreach (var parameter in operand.Parameters)
                        {
                            yield return parameter.ParameterType;
                        }

                        if (operand is GenericInstanceMethod generic)
                        {
                            foreach (var argument in generic.GenericArguments)
                            {
                                yield return argument;
                            }
                        }

                        break;
                    case FieldReference operand:
                        yield return operand.DeclaringType;
                        yield return operand.FieldType;
                        break;
                }
            }
        }
    }

    /// <summary>The folder a type belongs to, or null for the composition root (<c>Program</c>) and other assemblies' types.</summary>
    private static string? FolderOf(TypeReference type)
    {
        while (type is TypeSpecification specification)
        {
            if (specification is GenericInstanceType generic)
            {
                // List<Foo> uses Foo: the arguments' folders count as the type's own.
                foreach (var argument in generic.GenericArguments)
                {
                    if (FolderOf(argument) is { } folder)
                    {
                        return folder;
                    }
                }
            }

            type = specification.ElementType;
        }

        while (type.DeclaringType is { } outer)
        {
            type = outer;
        }

        if (type.Scope is not ModuleDefinition && type.Scope?.Name != "EventSubRelay")
        {
            return null;
        }

        var parts = type.Namespace.Split('.');
        return type.Namespace switch
        {
            "AspNetCoreGeneratedDocument" => "Pages",
            _ when parts.Length >= 2 && parts[0] == "EventSubRelay" => parts[1],
            _ => null,
        };
    }

    private static string? FindCycle(HashSet<(string From, string To)> uses)
    {
        var graph = uses.GroupBy(u => u.From).ToDictionary(g => g.Key, g => g.Select(u => u.To).ToList());
        var state = new Dictionary<string, int>();
        var path = new Stack<string>();

        string? Visit(string folder)
        {
            state[folder] = 1;
            path.Push(folder);
            foreach (var next in graph.GetValueOrDefault(folder, []))
            {
                if (state.GetValueOrDefault(next) == 1)
                {
                    return string.Join(" → ", path.Reverse().SkipWhile(f => f != next).Append(next));
                }

                if (state.GetValueOrDefault(next) == 0 && Visit(next) is { } cycle)
                {
                    return cycle;
                }
            }

            path.Pop();
            state[folder] = 2;
            return null;
        }

        return graph.Keys.Select(f => state.GetValueOrDefault(f) == 0 ? Visit(f) : null).FirstOrDefault(c => c is not null);
    }

    [GeneratedRegex(@"^- \*\*(?<folder>[A-Za-z]+)\*\* uses (?<targets>[^\n]*)$", RegexOptions.Multiline)]
    private static partial Regex UsesLine();

    [GeneratedRegex(@"\b(?!nothing\b|and\b)[A-Z][A-Za-z]+\b")]
    private static partial Regex Folder();
}
