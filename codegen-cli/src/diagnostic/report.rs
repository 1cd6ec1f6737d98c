//! Rendering diagnostics as text, like the Rust compiler (the `generate` feature): the derive
//! reports through `compile_error!` and never links the renderer.

use std::fmt;
use std::ops::Range;

use annotate_snippets::{AnnotationKind, Group, Level, Renderer, Snippet};

use super::{Diagnostic, Diagnostics, Origin, SourceMap, display_path};

/// Renders diagnostics like the Rust compiler: `file:line:column`, the source line, a caret, a
/// help line.
pub struct Report<'a> {
    sources: &'a SourceMap,
    diagnostics: &'a Diagnostics,
    styled: bool,
}

impl<'a> Report<'a> {
    /// A plain-text report (no colours): what tests snapshot and what goes to a file or pipe.
    pub fn plain(sources: &'a SourceMap, diagnostics: &'a Diagnostics) -> Self {
        Report {
            sources,
            diagnostics,
            styled: false,
        }
    }

    /// Uses ANSI colours, for a terminal.
    pub fn styled(mut self, styled: bool) -> Self {
        self.styled = styled;
        self
    }

    fn render_one(&self, diagnostic: &Diagnostic) -> String {
        let mut first = Group::with_title(Level::ERROR.primary_title(diagnostic.message.as_str()));
        if let Some(snippet) = self.snippet(&diagnostic.origin, diagnostic.label.as_deref(), true) {
            first = first.element(snippet);
        }
        for (note, origin) in &diagnostic.notes {
            match self.snippet(origin, Some(note), false) {
                Some(snippet) => first = first.element(snippet),
                None => first = first.element(Level::NOTE.message(note.as_str())),
            }
        }
        if let Some(help) = &diagnostic.help {
            first = first.element(Level::HELP.message(help.as_str()));
        }
        let renderer = if self.styled {
            Renderer::styled()
        } else {
            Renderer::plain()
        };
        renderer.render(&[first])
    }

    fn snippet<'s>(
        &'s self,
        origin: &Origin,
        label: Option<&'s str>,
        primary: bool,
    ) -> Option<Snippet<'s, annotate_snippets::Annotation<'s>>> {
        let Origin::File { file, range } = origin else {
            return None;
        };
        let source = self.sources.get(*file);
        let kind = if primary {
            AnnotationKind::Primary
        } else {
            AnnotationKind::Context
        };
        let range = clamp(range.clone(), source.text.len());
        Some(
            Snippet::source(source.text.as_str())
                .path(display_path(&source.path))
                .fold(true)
                .annotation(kind.span(range).label(label)),
        )
    }
}

impl fmt::Display for Report<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, diagnostic) in self.diagnostics.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            writeln!(f, "{}", self.render_one(diagnostic))?;
        }
        let n = self.diagnostics.len();
        write!(
            f,
            "\nerror: found {n} problem{} in the schema; nothing was written",
            if n == 1 { "" } else { "s" }
        )
    }
}

fn clamp(range: Range<usize>, len: usize) -> Range<usize> {
    let start = range.start.min(len);
    let end = range.end.clamp(start, len);
    start..end
}
