/// Entity `{{ entity.name }}` (table `{{ entity.table }}`), from `{{ entity.path }}`.
{%- if entity.adopted %}
#[allow(non_snake_case)]
{%- endif %}
#[derive(Debug, Clone, PartialEq, ::syncwright::Syncable)]
{%- if let Some(attrs) = entity.attrs %}
#[syncwright({{ attrs }})]
{%- endif %}
pub struct {{ entity.rust_name }} {
{%- for field in entity.fields %}
{%- if let Some(attrs) = field.attrs %}
    #[syncwright({{ attrs }})]
{%- endif %}
    pub {{ field.name }}: {{ field.ty }},
{%- endfor %}
}
