-- Entity `{{ table.entity }}` (conflict strategy: {{ table.conflict }})
CREATE TABLE IF NOT EXISTS {{ table.name }} (
{%- for line in table.lines %}
    {{ line }}
{%- endfor %}
);
{%- for index in table.indexes %}
{{ index }}
{%- endfor %}
{%- for trigger in table.triggers %}
{{ trigger }}
{%- endfor %}
