"""the force's own areas: dated groupings of districts and LSOA sets into place-based areas (issue 15, point 4)

`place_grouping` holds a named grouping of one force and the date from which it applies; `place_grouping_area` its
areas (code, name, division, order); `place_grouping_member` each area's whole districts or, for an area smaller
than a district, its LSOAs. The grouping the `area` table holds (from the grouping files) is the first one and is
not copied here: it applies from the beginning and is read from `area` (services_db.groupings.base_grouping), so a
database migrated before its data are loaded needs nothing filled in. Going down drops the three tables and every
saved grouping with them.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04 04:45:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('place_grouping',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('force_code', sa.String(length=20), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('applies_from', sa.Date(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('created_by', sa.String(length=80), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('force_code', 'applies_from')
    )
    op.create_index(op.f('ix_place_grouping_force_code'), 'place_grouping', ['force_code'], unique=False)
    op.create_table('place_grouping_area',
    sa.Column('grouping_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=20), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('division_code', sa.String(length=20), nullable=True),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['grouping_id'], ['place_grouping.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('grouping_id', 'code')
    )
    op.create_table('place_grouping_member',
    sa.Column('grouping_id', sa.Integer(), nullable=False),
    sa.Column('member_code', sa.String(length=20), nullable=False),
    sa.Column('area_code', sa.String(length=20), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.ForeignKeyConstraint(['grouping_id'], ['place_grouping.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('grouping_id', 'member_code')
    )


def downgrade() -> None:
    op.drop_table('place_grouping_member')
    op.drop_table('place_grouping_area')
    op.drop_index(op.f('ix_place_grouping_force_code'), table_name='place_grouping')
    op.drop_table('place_grouping')
